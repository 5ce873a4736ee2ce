"""Where the statistics are kept: each in the shared cache under the data token and its arguments
(`cached`), and what a page reads several times in the process as well, for the current token only
(`kept_per_token`). The token changes with every edit, so nothing kept is ever stale."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from counties.caching.keys import statistic_key
from counties.caching.shared import fetch, keep
from counties.caching.token import current_state, data_change_pending

CACHE_SECONDS = 24 * 60 * 60

T = TypeVar("T")


class Cached(Protocol[T]):
    uncached: Callable[..., T]

    def __call__(self, *args: Any) -> T: ...


def cached(function: Callable[..., T]) -> Cached[T]:
    """Cache a statistic under the code, the data token and its arguments; `.uncached` bypasses the cache."""

    @functools.wraps(function)
    def wrapper(*args: Any) -> T:
        if data_change_pending():
            return function(*args)  # inside a write that is not committed yet: never cached
        key = statistic_key(current_state().token, function.__name__, args)
        value = fetch(key)  # None also when the cache does not answer: worked out from the database
        if value is None:
            value = function(*args)
            keep(key, value, CACHE_SECONDS)
        return value

    statistic = cast(Cached[T], wrapper)  # given its `uncached` here
    statistic.uncached = function
    EVERY_CACHED.append(statistic)
    return statistic


# Every cached statistic, in every module of this package: a test works each one out under a new
# token and reads it back without a query, so one added later is held to it too.
EVERY_CACHED: list[Cached[Any]] = []

# One dict per `kept_per_token` function, token -> value, so `forget_loaded_rows` drops them all.
_KEPT: list[dict[str, Any]] = []


def kept_per_token(load: Callable[[], T]) -> Callable[[], T]:
    """Keep what `load` returns in this process, for the current data token only (the one kept is
    dropped when the token changes). Inside a write that is not committed yet, always loaded
    afresh (as `cached` does)."""
    kept: dict[str, T] = {}
    _KEPT.append(kept)

    @functools.wraps(load)
    def wrapper() -> T:
        if data_change_pending():
            return load()
        token = current_state().token
        if token not in kept:
            value = load()
            kept.clear()  # only the current token's is kept
            kept[token] = value
        return kept[token]

    return wrapper


def forget_loaded_rows() -> None:
    """Drop what `kept_per_token` keeps: the programme's rows and the list index (for tests, which
    roll the data back under the same token; and for the benchmark, to read after an edit as
    another process does)."""
    for kept in _KEPT:
        kept.clear()
