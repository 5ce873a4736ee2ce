"""The change feed's rows, written by the write services (`counties.writes.services`) in the
transaction of the write they record: one row per public record created, changed or deleted, with
its public fields after the change (`counties.reads.public_records`), or a tombstone for a deletion.

Commit order: the feed is read by row id, and on PostgreSQL an id is allocated when the row is
inserted, not when its transaction commits; a reader could then page past an id whose
transaction commits later and never see it. Every transaction that records changes therefore takes
one transaction-scoped advisory lock before its first row and holds it to its commit, so ids are
committed in order. SQLite serialises writers on the whole file already.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, models, router, transaction
from django.utils import timezone

from counties.caching.token import mark_data_changed
from counties.models import Change, ChangeAction, ChangePruning
from counties.reads.changes import last_fed
from counties.reads.public_records import KINDS, PublicKind, PublicRow, dependent_pks, kind_of, public_rows

# The advisory lock's number: any constant the registry uses for nothing else ("feed" in ASCII).
FEED_LOCK = 0x66656564


def serialize_feed(using: str | None = None) -> None:
    """Take the feed's transaction-scoped lock (PostgreSQL; a no-op on SQLite), held to the commit."""
    connection = connections[using or router.db_for_write(Change)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK])


def stored_keys(model: type[models.Model], pks: Sequence[Any]) -> dict[Any, str]:
    """Before a write that may change records' keys (a unit's code, an indicator's): their keys as
    stored. Nothing is read for a kind keyed by id, or a model the public does not read."""
    kind = kind_of(model)
    pks = [pk for pk in pks if pk is not None]
    if kind is None or kind.key_field == "pk" or not pks:
        return {}
    found: dict[Any, str] = {}
    for start in range(0, len(pks), 900):
        rows = model._default_manager.filter(pk__in=pks[start : start + 900]).values_list("pk", kind.key_field)
        found.update((pk, str(key)) for pk, key in rows)
    return found


def _change(row: PublicRow, action: str, now: Any, key: str | None = None) -> Change:
    return Change(
        kind=row.kind.name,
        key=row.key if key is None else key,
        action=action,
        record=None if action == ChangeAction.DELETED else row.record,
        province=row.province,
        unit_id=row.unit_id,
        at=now,
    )


def _insert(changes: list[Change]) -> int:
    if changes:
        serialize_feed()
        Change.objects.bulk_create(changes, batch_size=1000)
    return len(changes)


def record_written(model: type[models.Model], pks: Sequence[Any], *, created: bool, stored: dict[Any, str] | None = None) -> int:
    """Feed rows for the records `pks` of `model` just created or changed (read back as stored, so a
    row holds what the API now shows), and for the records of other kinds that show their fields.
    A record whose key changed (`stored`: its keys before the write) gets a tombstone under its old
    key and is created under the new one; a changed record the public may no longer see, a
    tombstone. Returns the rows written."""
    kind = kind_of(model)
    if not pks:
        return 0
    now = timezone.now()
    if kind is None:  # not a public record; public records may show its fields (a province's names)
        return _insert(_dependents(model, pks, now))
    stored = stored or {}
    rows = public_rows(kind, pks)
    changes: list[Change] = []
    for row in rows:
        old = stored.get(row.pk)
        if old is not None and old != row.key:
            changes.append(_change(row, ChangeAction.DELETED, now, key=old))
            changes.append(_change(row, ChangeAction.CREATED, now))
        else:
            changes.append(_change(row, ChangeAction.CREATED if created else ChangeAction.CHANGED, now))
    if not created:
        changes += _hidden(kind, set(pks) - {row.pk for row in rows}, stored, now)
        changes += _dependents(model, pks, now)
    return _insert(changes)


def _dependents(model: type[models.Model], pks: Sequence[Any], now: Any) -> list[Change]:
    """Changed rows for the public records that show fields of the records `pks` of `model`, those
    whose public fields did change (a designation's new name changes none of its assessments)."""
    changed: list[Change] = []
    for other, ids in dependent_pks(model, list(pks)):
        rows = public_rows(other, ids)
        last = last_fed(other.name, [row.key for row in rows])
        changed += [_change(row, ChangeAction.CHANGED, now) for row in rows if row.key not in last or last[row.key] != row.record]
    return changed


def _hidden(kind: PublicKind, pks: set[Any], stored: dict[Any, str], now: Any) -> list[Change]:
    """Tombstones for changed records the public may no longer see."""
    if not pks:
        return []
    keys = stored_keys(kind.model, sorted(pks)) if kind.key_field != "pk" else {pk: str(pk) for pk in pks}
    present = set(kind.model._default_manager.filter(pk__in=sorted(pks)).values_list("pk", flat=True))
    return [
        Change(kind=kind.name, key=stored.get(pk, keys.get(pk, str(pk))), action=ChangeAction.DELETED, record=None, at=now)
        for pk in sorted(pks)
        if pk in present
    ]


def record_deleted(model: type[models.Model], pks: Sequence[Any]) -> int:
    """Tombstones for the records `pks` of `model` about to be deleted (read before the delete, in
    its transaction). Returns the rows written."""
    kind = kind_of(model)
    if kind is None or not pks:
        return 0
    now = timezone.now()
    return _insert([_change(row, ChangeAction.DELETED, now) for row in public_rows(kind, pks)])


def record_unfed() -> int:
    """Feed every stored record of a kind that has no change yet as created: the records stored
    before the feed began (a database older than the feed; a migration's data, as the indicator
    catalogue). `load_reference_data` asks it before it writes, so a deployment's first load starts
    the feed with the whole registry. A kind already fed is left alone (one query each)."""
    written = 0
    for kind in KINDS:
        if not Change.objects.filter(kind=kind.name).exists():
            written += record_written(kind.model, list(kind.queryset().values_list("pk", flat=True)), created=True)
    return written


@transaction.atomic
def prune(kept_days: int, now: datetime | None = None) -> int:
    """Delete the changes older than `kept_days` days, remembering the last id pruned: a client
    whose cursor is before it is told to start again from a snapshot (410 Gone). The newest change
    is always kept, so the feed's current cursor stays readable. Returns the changes deleted."""
    horizon = (now or timezone.now()) - timedelta(days=kept_days)
    newest = Change.objects.order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        return 0
    through = Change.objects.filter(at__lt=horizon, id__lt=newest).order_by("-id").values_list("id", flat=True).first()
    if through is None:
        return 0
    deleted, _per_model = Change.objects.filter(id__lte=through).delete()
    ChangePruning.objects.create(pruned_through=through)
    mark_data_changed()  # a cached page of the pruned changes is answered 410 now
    return deleted
