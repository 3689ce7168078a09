"""Fixed-window rate limits kept in the shared cache (Redis in production).

Used for the things a stranger can hammer: login, SMS codes, public queries.
"""

from django.conf import settings
from django.core.cache import cache


def client_ip(request):
    """The client's address, trusting X-Forwarded-For only from NUM_PROXIES proxies."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.NUM_PROXIES and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= settings.NUM_PROXIES:
            return hops[-settings.NUM_PROXIES]
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


def _key(scope, ident):
    return f"rl:{scope}:{ident}"


def hit(scope, ident, *, limit, period):
    """Count one attempt; return True while the count is within ``limit`` per ``period`` seconds."""
    key = _key(scope, ident)
    if cache.add(key, 1, timeout=period):
        return 1 <= limit
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period)
        count = 1
    return count <= limit


def count(scope, ident):
    return cache.get(_key(scope, ident), 0)


def reset(scope, ident):
    cache.delete(_key(scope, ident))
