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
