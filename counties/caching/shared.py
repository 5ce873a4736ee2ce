"""One round trip to the default cache for what every anonymous read needs: some values (the data
token's copy, a response) and, for a rate limit, one more count in a window.

With Redis (counties.caching.redis_backend) the reads and the count go out as one command, so a cached
answer costs one round trip however many keys it needs. With any other backend (locmem in
development and tests, the database cache) the same operations are made one after another.

When the cache does not answer (`CacheUnavailable`, raised by the Redis backend within its socket
timeout, or at once while its breaker is open) the registry goes on without it, and this module is
where that is decided:
- values read are missing (`read_and_count`, `fetch`): the caller works them out, from the database;
- values written are dropped (`keep`, `keep_if_absent`): nothing is served from the cache meanwhile;
- a rate-limit window is counted in this process instead (`OUTAGE_COUNTERS`), so each worker
  counts on its own, as with the per-process cache: an outage makes the limits looser (at most one
  limit per worker), never refuses a request (counties.caching.throttling says so too).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any, NamedTuple, overload

from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache


class CacheUnavailable(Exception):
    """The shared cache did not answer (or is skipped for a moment after it did not)."""


class Count(NamedTuple):
    """Add one to `current` (a window's counter, kept `timeout` seconds) and read `previous`."""

    current: str
    previous: str
    timeout: int


class Counted(NamedTuple):
    current: int  # this request included
    previous: int


# Where rate limits are counted while the shared cache does not answer: this process's memory.
OUTAGE_COUNTERS = LocMemCache("registry-outage-counters", {"OPTIONS": {"MAX_ENTRIES": 10000}})


@overload
def read_and_count(keys: list[str], count: Count) -> tuple[dict[str, Any], Counted]: ...
@overload
def read_and_count(keys: list[str], count: Count | None = None) -> tuple[dict[str, Any], Counted | None]: ...
def read_and_count(keys: list[str], count: Count | None = None) -> tuple[dict[str, Any], Counted | None]:
    """The values found at `keys`, and the counters after counting this request (if asked); none
    found, and counted in this process, when the cache does not answer."""
    try:
        pipelined = getattr(cache, "get_many_and_count", None)
        if pipelined is not None:
            return pipelined(keys, count)
        found = cache.get_many(keys) if keys else {}
        return found, None if count is None else _count_in(cache, count)
    except CacheUnavailable:
        return {}, None if count is None else _count_in(OUTAGE_COUNTERS, count)


def _count_in(counters: BaseCache, count: Count) -> Counted:
    counters.add(count.current, 0, count.timeout)
    try:
        current = counters.incr(count.current)
    except ValueError:  # expired between the two calls
        counters.set(count.current, 1, count.timeout)
        current = 1
    return Counted(current, int(counters.get(count.previous) or 0))


def uncount(count: Count) -> None:
    """Take back the count `read_and_count` added (a request the rate limit refused)."""
    with suppress(ValueError):  # the counter expired meanwhile: nothing to take back
        try:
            cache.decr(count.current)
        except CacheUnavailable:
            OUTAGE_COUNTERS.decr(count.current)


def fetch(key: str) -> Any:
    """The value at `key`, or None (also when the cache does not answer)."""
    try:
        return cache.get(key)
    except CacheUnavailable:
        return None


def keep(key: str, value: Any, timeout: int) -> bool:
    """Store `value`; False when the cache does not answer (nothing is stored)."""
    try:
        cache.set(key, value, timeout)
    except CacheUnavailable:
        return False
    return True


def keep_if_absent(key: str, value: Any, timeout: int) -> None:
    """Store `value` unless `key` holds one (never overwriting); nothing when the cache does not answer."""
    with suppress(CacheUnavailable):
        cache.add(key, value, timeout)


def cache_answers() -> bool:
    """Whether the default cache answers now (the health checks' question). A per-process or
    database cache has no outage of its own: the database check covers the latter."""
    ping = getattr(cache, "ping", None)
    return True if ping is None else bool(ping())
