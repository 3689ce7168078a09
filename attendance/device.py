"""The door's device mark: a long-lived signed cookie that tells one phone from another (W9).

Set on the first door page a phone opens and sent back with every scan; its
value is random and means nothing outside the portal. A phone that clears its
cookies gets a new mark, which is why the roster's flags also keep the address
and the times.
"""

import secrets

from django.conf import settings
from django.core import signing

COOKIE = "cme_door"
SALT = "attendance.device"
MAX_AGE = 5 * 365 * 24 * 3600


def read(request):
    """The mark this request carries, or "" when it has none or a forged one."""
    try:
        return request.get_signed_cookie(COOKIE, default="", salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return ""


def new_mark():
    return secrets.token_hex(8)


def signed(mark):
    """The cookie's value for ``mark`` (the benchmark gives each simulated phone its own)."""
    return signing.get_cookie_signer(salt=signing._cookie_signer_salt(COOKIE, SALT)).sign(mark)


def remember(response, mark):
    response.set_signed_cookie(
        COOKIE,
        mark,
        salt=SALT,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
    )
