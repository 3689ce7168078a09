"""Check-in and check-out codes: derived, never stored (like TOTP).

A code is an HMAC of the server secret, the session, the direction, the day
(in the one-pair-per-day mode) and the index of the current time window of
the organiser's refresh period. The current and the previous window are
accepted, so a code scanned just as it turns still works, and there is
nothing to fall out of step when a projector page is refreshed twice.
"""

import base64
import hashlib
import hmac
import re
from datetime import datetime

from django.conf import settings
from django.utils import timezone

CHECK_IN = "in"
CHECK_OUT = "out"
DIRECTIONS = (CHECK_IN, CHECK_OUT)
TOKEN_LENGTH = 16  # base32 characters: 80 bits
_TOKEN_RE = re.compile(r"[a-z2-7]{16}")


def _offset(moment):
    """Seconds east of UTC where the portal runs: windows turn at local midnight, not 08:00."""
    return int(timezone.localtime(moment).utcoffset().total_seconds())


def window_index(moment, period_seconds):
    return (int(moment.timestamp()) + _offset(moment)) // period_seconds


def window_start(index, period_seconds, near):
    """The aware datetime a window begins at (``near`` gives the zone's offset)."""
    return datetime.fromtimestamp(index * period_seconds - _offset(near), tz=timezone.get_current_timezone())


def window_bounds(moment, period_seconds):
    """Start and end (UTC timestamps) of the window ``moment`` falls in."""
    index = window_index(moment, period_seconds)
    start = index * period_seconds - _offset(moment)
    return start, start + period_seconds


def make_token(session_id, direction, day, index):
    key = (settings.SECRET_KEY + ":attendance").encode()
    message = f"{session_id}:{direction}:{day.isoformat() if day else '-'}:{index}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def poster_token(session_id, direction, day):
    """The code a printed poster carries: valid on ``day`` only, the whole day (the roster marks its scans)."""
    key = (settings.SECRET_KEY + ":attendance").encode()
    message = f"{session_id}:{direction}:{day.isoformat()}:poster".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def poster_matches(token, session_id, direction, day):
    token = (token or "").strip().lower()
    return well_formed(token) and hmac.compare_digest(token.encode(), poster_token(session_id, direction, day).encode())


def legacy_day_matches(token, session_id, direction, day_of, moment):
    """A poster printed before posters had codes of their own carried the code of the day's window of a day-long
    period: still honoured on its day, so posters already on the walls keep working."""
    token = (token or "").strip().lower()
    index = window_index(moment, 86400)
    start = window_start(index, 86400, moment)
    return well_formed(token) and hmac.compare_digest(
        token.encode(), make_token(session_id, direction, day_of(start), index).encode()
    )


def current_token(session_id, direction, day, period_seconds, moment):
    return make_token(session_id, direction, day, window_index(moment, period_seconds))


def well_formed(token):
    return bool(_TOKEN_RE.fullmatch(token or ""))


def token_matches(token, session_id, direction, day_of, period_seconds, moment: datetime):
    """Whether ``token`` is the code of the current or the previous window at ``moment``.

    ``day_of(moment)`` gives the day a window's code is derived with (None in
    session mode), so yesterday's last window is checked with yesterday's day.
    """
    token = (token or "").strip().lower()
    if not well_formed(token):
        return False
    index = window_index(moment, period_seconds)
    for i in (index, index - 1):
        start = window_start(i, period_seconds, moment)
        if hmac.compare_digest(token.encode(), make_token(session_id, direction, day_of(start), i).encode()):
            return True
    return False


# --- personal codes for the desk (我的签到码) --------------------------------------------
#
# "CME1.<learner id>.<window>.<mac>": on the phone the window is the current minute and
# the page renews it, so a screenshot dies within two minutes; printed on paper the window
# is "p" + the day it was printed, valid for a year (desk staff see the person it names).

PERSONAL_PERIOD_SECONDS = 60
PRINTED_VALID_DAYS = 366
_PERSONAL_RE = re.compile(r"CME1\.(\d{1,12})\.(p?\d{1,12})\.([A-Z2-7]{16})")


def _personal_mac(learner_id, window):
    key = (settings.SECRET_KEY + ":personal-code").encode()
    digest = hmac.new(key, f"{learner_id}:{window}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode()


def personal_code(learner_id, moment):
    window = str(int(moment.timestamp()) // PERSONAL_PERIOD_SECONDS)
    return f"CME1.{learner_id}.{window}.{_personal_mac(learner_id, window)}"


def printed_personal_code(learner_id, day):
    window = "p" + day.strftime("%Y%m%d")
    return f"CME1.{learner_id}.{window}.{_personal_mac(learner_id, window)}"


def read_personal_code(code, moment):
    """The learner id a personal code names, or None when it is forged or expired."""
    match = _PERSONAL_RE.fullmatch((code or "").strip())
    if not match:
        return None
    learner_id, window, mac = match.groups()
    if not hmac.compare_digest(mac, _personal_mac(learner_id, window)):
        return None
    if window.startswith("p"):
        try:
            printed = datetime.strptime(window[1:], "%Y%m%d").date()
        except ValueError:
            return None
        age = (timezone.localdate(moment) - printed).days
        return int(learner_id) if 0 <= age <= PRINTED_VALID_DAYS else None
    now_window = int(moment.timestamp()) // PERSONAL_PERIOD_SECONDS
    # Two minutes back, and one ahead for a desk phone whose clock runs a little slow.
    return int(learner_id) if -1 <= now_window - int(window) <= 2 else None
