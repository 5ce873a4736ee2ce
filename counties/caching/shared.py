"""One round trip to the default cache for what every anonymous read needs: some values (the data
token's copy, a response) and, for the API, one more count in a rate-limit window.

With Redis (counties.caching.redis_backend) the reads and the count go out as one command, so a cached
answer costs one round trip however many keys it needs. With any other backend (locmem in
development and tests, the database cache) the same operations are made one after another.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any, NamedTuple, overload

from django.core.cache import cache


class Count(NamedTuple):
    """Add one to `current` (a window's counter, kept `timeout` seconds) and read `previous`."""

    current: str
    previous: str
    timeout: int


class Counted(NamedTuple):
    current: int  # this request included
    previous: int


@overload
def read_and_count(keys: list[str], count: Count) -> tuple[dict[str, Any], Counted]: ...
@overload
def read_and_count(keys: list[str], count: Count | None = None) -> tuple[dict[str, Any], Counted | None]: ...
def read_and_count(keys: list[str], count: Count | None = None) -> tuple[dict[str, Any], Counted | None]:
    """The values found at `keys`, and the counters after counting this request (if asked)."""
    pipelined = getattr(cache, "get_many_and_count", None)
    if pipelined is not None:
        return pipelined(keys, count)
    found = cache.get_many(keys) if keys else {}
    if count is None:
        return found, None
    cache.add(count.current, 0, count.timeout)
    try:
        current = cache.incr(count.current)
    except ValueError:  # expired between the two calls
        cache.set(count.current, 1, count.timeout)
        current = 1
    return found, Counted(current, int(cache.get(count.previous) or 0))


def uncount(count: Count) -> None:
    """Take back the count `read_and_count` added (a request the rate limit refused)."""
    with suppress(ValueError):  # the counter expired meanwhile: nothing to take back
        cache.decr(count.current)
