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
from datetime import datetime

from django.conf import settings

CHECK_IN = "in"
CHECK_OUT = "out"
DIRECTIONS = (CHECK_IN, CHECK_OUT)
TOKEN_LENGTH = 16  # base32 characters: 80 bits


def window_index(moment, period_seconds):
    return int(moment.timestamp()) // period_seconds


def window_bounds(moment, period_seconds):
    """Start and end (UTC timestamps) of the window ``moment`` falls in."""
    index = window_index(moment, period_seconds)
    return index * period_seconds, (index + 1) * period_seconds


def make_token(session_id, direction, day, index):
    key = (settings.SECRET_KEY + ":attendance").encode()
    message = f"{session_id}:{direction}:{day.isoformat() if day else '-'}:{index}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def current_token(session_id, direction, day, period_seconds, moment):
    return make_token(session_id, direction, day, window_index(moment, period_seconds))


def token_matches(token, session_id, direction, day, period_seconds, moment: datetime):
    """Whether ``token`` is the code of the current or the previous window at ``moment``."""
    index = window_index(moment, period_seconds)
    token = (token or "").strip().lower()
    return any(
        hmac.compare_digest(token, make_token(session_id, direction, day, i)) for i in (index, index - 1)
    )
