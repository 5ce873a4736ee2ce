"""Reading the data token: which version of the data a cached answer belongs to.

The truth is the single `DataVersion` row, changed by `services.mark_data_changed` once per
transaction, after it commits. Every cached answer (statistics, whole responses) is keyed by it, so
an edit made through any instance is seen by every other at its next read.

Reading the row costs a query on every request, which is most of what a cached answer would cost.
With a shared cache (Redis) the writer therefore also keeps a copy there (`publish`), and readers
take the copy. Why the copy is never stale for long:
- the writer overwrites it right after its commit, before its own request returns, so an edit is
  seen by every instance as soon as the editor sees it saved;
- a reader that finds no copy reads the row and adds it (`add`, never `set`): a reader holding an
  older token cannot overwrite a newer copy that a writer published meanwhile;
- every copy expires after COPY_SECONDS, so a copy that a failed write to Redis left behind (or a
  change made outside the services, e.g. by SQL) is corrected within that time.
The one interleaving left (a reader reads the row, a writer commits and publishes, the copy is
evicted, the reader adds its older token) needs an eviction within microseconds, and also heals
after COPY_SECONDS.

With a per-process cache (locmem) a copy could not see another process's edits, so there is no
copy: the row is read on every request (one query), which is correct with any number of processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, NamedTuple

from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache

from .models import DataVersion
from .shared_cache import Count, Counted, read_and_count

COPY_KEY = "data-token"
COPY_SECONDS = 30


class DataState(NamedTuple):
    token: str
    changed_at: datetime | None


INITIAL = DataState("initial", None)
# The state a read-only request started with (see `pinned`).
_pinned: ContextVar[DataState | None] = ContextVar("pinned_data_state", default=None)


def data_version() -> str:
    """The current data token, read from the database; "initial" before any change was recorded."""
    return stored_state().token


def stored_state() -> DataState:
    row = DataVersion.objects.filter(pk=1).values_list("token", "changed_at").first()
    return DataState(*row) if row else INITIAL


def cache_is_shared() -> bool:
    """Whether every process sees the same default cache (Redis, database, files)."""
    return not isinstance(caches["default"], (LocMemCache, DummyCache))


def current_state() -> DataState:
    """The data token and when it changed: the one the current read-only request started with,
    else the shared cache's copy, else the database."""
    return _pinned.get() or current_state_and()[0]


@contextmanager
def pinned(state: DataState) -> Iterator[None]:
    """Within a GET the response cache has already read the token for: every cached statistic
    the request reads uses the same token, without reading it again (one answer, one version)."""
    reset = _pinned.set(state)
    try:
        yield
    finally:
        _pinned.reset(reset)


def current_state_and(*keys: str, count: Count | None = None) -> tuple[DataState, dict[str, Any], Counted | None]:
    """The current state, the cached values at `keys` (those present) and, if asked, a rate-limit
    window counted (counties.shared_cache), in one round trip to a shared cache; with a
    per-process cache, the state comes from the database."""
    if not cache_is_shared():
        return stored_state(), *read_and_count(list(keys), count)
    found, counted = read_and_count([COPY_KEY, *keys], count)
    copy = found.pop(COPY_KEY, None)
    if copy is None:
        copy = stored_state()
        cache.add(COPY_KEY, tuple(copy), COPY_SECONDS)
    return DataState(*copy), found, counted


def publish(state: DataState) -> None:
    """Called by the writer right after it committed a new token (see the module's notes)."""
    if cache_is_shared():
        cache.set(COPY_KEY, tuple(state), COPY_SECONDS)
