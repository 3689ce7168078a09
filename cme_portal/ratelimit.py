"""Fixed-window rate limits kept in the shared cache (Redis in production).

Used for the things a stranger can hammer: login, SMS codes, public queries.

When Redis is away the cache answers from each process's memory (cme_portal/cache.py), and each limit
says what it does then (``on_outage``), as the README's table lists:
- ``"local"`` (the default): count in this process. A limit stays a limit (at most the process count
  times looser), and nobody is refused for Redis's sake: login, lockouts, public queries, verification.
- ``"closed"``: refuse while counts cannot be shared, where a wrong "yes" costs more than a wrong "no"
  (an SMS sent is money and a message to someone's phone; and the broker that sends it is away too).
"""

from django.conf import settings
from django.core.cache import cache, caches


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


def hit(scope, ident, *, limit, period, on_outage="local"):
    """Count one attempt; return True while the count is within ``limit`` per ``period`` seconds."""
    from .cache import cache_is_shared, count_in_window

    if on_outage == "closed" and not cache_is_shared():
        return False
    count = count_in_window(caches["default"], _key(scope, ident), period)
    if on_outage == "closed" and not cache_is_shared():  # Redis went away during the call: counted locally
        return False
    return count <= limit


def hits(limits, *, period, on_outage="local"):
    """``hit`` for several limits at once, ``(scope, ident, limit)`` each, counted in one round trip to Redis;
    for each, True while its count is within its limit. Each attempt is counted against all of them."""
    from .cache import cache_is_shared, counts_in_window

    if on_outage == "closed" and not cache_is_shared():
        return [False] * len(limits)
    counts = counts_in_window(caches["default"], [_key(scope, ident) for scope, ident, _limit in limits], period)
    if on_outage == "closed" and not cache_is_shared():
        return [False] * len(limits)
    return [count <= limit for count, (_scope, _ident, limit) in zip(counts, limits)]


def hit_all(limits, *, period, on_outage="local"):
    """True while every one of ``limits`` holds (``hits``)."""
    return all(hits(limits, period=period, on_outage=on_outage))


def count(scope, ident):
    return cache.get(_key(scope, ident), 0)


def reset(scope, ident):
    cache.delete(_key(scope, ident))
