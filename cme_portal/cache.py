"""The shared cache (Redis), and what happens when Redis is away: pages keep working.

``ResilientRedisCache`` is Django's RedisCache with a local fallback: when Redis refuses or times out,
each operation is answered from this process's memory (a LocMemCache) and Redis is not tried again for
``retry_seconds``, so a dead Redis costs one refused connection per process every few seconds, not one
per request. What each user of the cache does while it is local is its own choice
(``cme_portal.ratelimit``: per-process counting, or refusing where a shared count is the point).
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

log = logging.getLogger(__name__)

_OUTAGE_ERRORS = None


def _outage_errors():
    global _OUTAGE_ERRORS
    if _OUTAGE_ERRORS is None:
        import redis

        _OUTAGE_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
    return _OUTAGE_ERRORS


_OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "decr",
    "set_many",
    "delete_many",
    "clear",
    "get_or_set",
)


class _ReusedClients(RedisCacheClient):
    """Django's client builds a new ``redis.Redis`` (and its table of 200 response callbacks) for every cache
    operation; one per connection pool, kept, does the same work (clients are thread-safe: the pool hands out
    connections). On the door's three steps that was a tenth of their time."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_seconds = options.pop("RETRY_SECONDS", 5)
        # A Redis that does not answer must not hold a request for long.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _ReusedClients
        self._local = LocMemCache("cme-fallback", {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 50_000}})
        self._down_until = 0.0

    @property
    def degraded(self):
        """True while operations are answered locally (Redis refused within the last few seconds)."""
        return time.monotonic() < self._down_until

    def _call(self, name, *args, **kwargs):
        if not self.degraded:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except _outage_errors() as error:
                self._down_until = time.monotonic() + self.retry_seconds
                log.warning("cache_unreachable", extra={"operation": name, "error": error.__class__.__name__})
        return getattr(self._local, name)(*args, **kwargs)


def count_in_window(cache, key, period):
    """Add one to ``key``'s count and return it; the count starts when the key is first made and lasts
    ``period`` seconds (a fixed window). Redis: INCR and EXPIRE … NX in one round trip."""
    return counts_in_window(cache, [key], period)[0]


def counts_in_window(cache, keys, period):
    """``count_in_window`` for several keys at once, in one round trip to Redis (the door counts a phone and
    its address with each step); returns their counts in order."""
    if isinstance(cache, ResilientRedisCache) and not cache.degraded:
        try:
            redis_keys = [cache.make_and_validate_key(key) for key in keys]
            # Django's Redis cache writes every key to its first server: one client holds them all.
            pipeline = cache._cache.get_client(redis_keys[0], write=True).pipeline(transaction=False)
            for redis_key in redis_keys:
                pipeline.incr(redis_key)
                pipeline.expire(redis_key, period, nx=True)
            return pipeline.execute()[::2]
        except _outage_errors() as error:
            cache._down_until = time.monotonic() + cache.retry_seconds
            log.warning("cache_unreachable", extra={"operation": "incr", "error": error.__class__.__name__})
        cache = cache._local
    return [_count_locally(cache, key, period) for key in keys]


def _count_locally(cache, key, period):
    if cache.add(key, 1, timeout=period):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period)
        return 1


def _delegate(name):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    return method


for _name in _OPERATIONS:
    setattr(ResilientRedisCache, _name, _delegate(_name))


def cache_is_shared():
    """False while the shared cache is away and counts are only this process's."""
    from django.core.cache import cache

    return not getattr(cache, "degraded", False)
