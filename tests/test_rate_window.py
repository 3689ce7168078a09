"""The rate limits' counter (cme_portal.cache.count_in_window): one round trip to Redis, a fixed window.

Against the machine's Redis (REDIS_URL, else 127.0.0.1:6379) in a database of its own; skipped when there is
no Redis. The fallback when Redis is away is tests/test_redis_away.py's.
"""

import os
import uuid

import pytest

from cme_portal.cache import ResilientRedisCache, count_in_window, counts_in_window


@pytest.fixture
def redis_cache():
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    cache = ResilientRedisCache(f"{base}/9", {"KEY_PREFIX": f"t-{uuid.uuid4().hex[:8]}"})
    try:
        cache._cache.get_client(write=True).ping()
    except Exception:
        pytest.skip("no Redis on this machine")
    return cache


@pytest.fixture
def sent(redis_cache):
    """The commands of each pipeline the cache's client executes (each one round trip to Redis)."""
    client = redis_cache._cache.get_client(write=True)
    sent, original = [], client.pipeline

    def pipeline(*args, **kwargs):
        pipe = original(*args, **kwargs)
        execute = pipe.execute
        pipe.execute = lambda *a, **k: sent.append(list(pipe.command_stack)) or execute(*a, **k)
        return pipe

    client.pipeline = pipeline
    return sent


def test_the_window_counts_in_one_round_trip_and_starts_once(redis_cache, sent):
    client = redis_cache._cache.get_client(write=True)
    assert [count_in_window(redis_cache, "door", 60) for _ in range(3)] == [1, 2, 3]
    assert len(sent) == 3  # one pipeline (one round trip) a count
    key = redis_cache.make_and_validate_key("door")
    ttl = client.ttl(key)
    assert 0 < ttl <= 60
    client.expire(key, 5)
    count_in_window(redis_cache, "door", 60)
    assert client.ttl(key) <= 5, "a count must not push the window's end back"
    assert redis_cache.get("door") == 4  # readable as the cache's own integer (ratelimit.count)


def test_several_windows_count_in_one_round_trip(redis_cache, sent):
    """The door counts a phone and its address with each step: both in one pipeline, each its own count."""
    count_in_window(redis_cache, "address", 60)
    sent.clear()
    assert counts_in_window(redis_cache, ["phone", "address"], 60) == [1, 2]
    assert counts_in_window(redis_cache, ["phone", "address"], 60) == [2, 3]
    assert [len(commands) for commands in sent] == [4, 4]  # one round trip each: INCR and EXPIRE … NX per key
    ttl = redis_cache._cache.get_client(write=True).ttl(redis_cache.make_and_validate_key("phone"))
    assert 0 < ttl <= 60


def test_the_client_is_made_once_per_pool(redis_cache):
    assert redis_cache._cache.get_client(write=True) is redis_cache._cache.get_client(write=True)
