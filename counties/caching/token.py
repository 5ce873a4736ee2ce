"""The data token: which version of the data a cached answer belongs to.

The truth is the single `DataVersion` row. A write marks the data changed (`mark_data_changed`,
called by the write services); once its transaction commits, the row gets a new token, once per
transaction however many records it wrote, and never for a dry run, a preview or a rolled-back
write. Every cached answer (statistics, whole responses) is keyed by the token
(`counties.caching.keys`), so an edit made through any instance is seen by every other at its next
read, and what derives from the data is worked out again by the first read that needs it.

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

When Redis does not answer (counties.caching.shared), the row is read on every request, as with a
per-process cache, and nothing is kept: every answer is made from the database, correct. A write
that commits meanwhile is reported as committed: its new token is in the row, and failing to
publish the copy is logged, never raised. What could then go stale is the copy Redis still holds
if it was unreachable rather than restarted (a hang, a network partition): the old token, with the
answers cached under it. Two things bound that: the first command any process sends after it saw
Redis fail deletes the copy (counties.caching.redis_backend), and a copy expires after COPY_SECONDS
anyway. The writer's process is one that saw it fail (its publish did), so the stale copy lasts
until that process next reaches Redis, and at most COPY_SECONDS.

A token the database itself failed to renew after a commit (the database went away between the
two) is logged as an error: until the next change, answers cached before that write may be served.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, NamedTuple

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import DatabaseError, transaction
from django.utils import timezone

from counties.caching.keys import TOKEN_COPY_KEY
from counties.caching.shared import Count, Counted, keep, keep_if_absent, read_and_count
from counties.models import DataVersion

COPY_SECONDS = 30
logger = logging.getLogger(__name__)


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
    window counted (counties.caching.shared), in one round trip to a shared cache; with a
    per-process cache, the state comes from the database."""
    if not cache_is_shared():
        return stored_state(), *read_and_count(list(keys), count)
    found, counted = read_and_count([TOKEN_COPY_KEY, *keys], count)
    copy = found.pop(TOKEN_COPY_KEY, None)
    if copy is None:
        copy = stored_state()
        keep_if_absent(TOKEN_COPY_KEY, tuple(copy), COPY_SECONDS)
    return DataState(*copy), found, counted


def publish(state: DataState) -> None:
    """Called by the writer right after it committed a new token (see the module's notes)."""
    if cache_is_shared() and not keep(TOKEN_COPY_KEY, tuple(state), COPY_SECONDS):
        logger.warning("The data changed while the cache does not answer: its new token is in the database only (counties.caching.token).")


def mark_data_changed() -> None:
    """Give the data a new token once the current transaction commits (at once outside one).
    Called many times in one transaction, it writes once; a rolled-back transaction writes nothing."""
    if data_change_pending():
        return
    transaction.on_commit(_write_new_token)


def data_change_pending() -> bool:
    """Whether the open transaction has changed data the token does not reflect yet. A statistic
    read then must not use (or fill) the cache: it would see, or store under the old token, numbers
    of data that is not committed (and may be rolled back).

    It reads a Django internal, the queue of on-commit callbacks (`connection.run_on_commit`, a
    list of (savepoint ids, callback, robust) tuples): Django offers no public way to ask whether a
    callback is queued, and a flag of our own could not tell that a transaction was rolled back
    (which empties the queue). Django's own tests read the queue too.
    """
    connection = transaction.get_connection()
    return connection.in_atomic_block and any(queued[1] is _write_new_token for queued in connection.run_on_commit)


def _write_new_token() -> None:
    # Runs after the commit, in autocommit: one short UPDATE, so the single row is never held
    # locked for the length of a long import; then the shared copy, so every instance sees the
    # change before this request returns.
    # Neither step may turn the committed write into an error (see the module's notes).
    token, now = uuid.uuid4().hex, timezone.now()
    try:
        if not DataVersion.objects.filter(pk=1).update(token=token, changed_at=now):
            DataVersion.objects.get_or_create(pk=1, defaults={"token": token})
        state = stored_state()
    except DatabaseError:
        logger.exception("A write committed but its data token was not renewed: older cached answers may be served until the next change.")
        return
    publish(state)
