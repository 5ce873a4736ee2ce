"""Writes that keep derived data consistent."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from .models import DataVersion, Unit, UnitLineage, UnitSuccession


def data_version() -> str:
    """The current data token (see DataVersion); "initial" before any change was recorded."""
    return DataVersion.objects.filter(pk=1).values_list("token", flat=True).first() or "initial"


def mark_data_changed() -> None:
    """Invalidate every cached statistic, in this and every other process."""
    token = uuid.uuid4().hex
    # One UPDATE: this runs for every saved or deleted record.
    if not DataVersion.objects.filter(pk=1).update(token=token, changed_at=timezone.now()):
        DataVersion.objects.create(pk=1, token=token)


class SuccessionCycleError(ValueError):
    pass


@transaction.atomic
def rebuild_lineage() -> int:
    """Recompute `Unit.current` and the `UnitLineage` closure from the primary successions.

    Touches only rows that differ, so a second call changes nothing. Returns the number of rows
    written (current pointers changed + lineage rows added or removed).
    """
    primary = dict(UnitSuccession.objects.filter(is_primary=True, successor__isnull=False).values_list("predecessor_id", "successor_id"))
    units = dict(Unit.objects.values_list("pk", "current_id"))

    wanted_pairs: dict[tuple[int, int], int] = {}
    wanted_current: dict[int, int] = {}
    for unit_id in units:
        chain = [unit_id]
        while chain[-1] in primary:
            nxt = primary[chain[-1]]
            if nxt in chain:
                raise SuccessionCycleError(f"primary successions form a cycle through unit id {nxt}")
            chain.append(nxt)
        wanted_current[unit_id] = chain[-1]
        for depth, descendant in enumerate(chain):
            wanted_pairs[(unit_id, descendant)] = depth

    changed_units = [Unit(pk=pk, current_id=wanted_current[pk]) for pk, current in units.items() if current != wanted_current[pk]]
    Unit.objects.bulk_update(changed_units, ["current"], batch_size=500)

    existing = {(a, d): (pk, depth) for pk, a, d, depth in UnitLineage.objects.values_list("pk", "ancestor_id", "descendant_id", "depth")}
    stale = [pk for pair, (pk, depth) in existing.items() if wanted_pairs.get(pair) != depth]
    UnitLineage.objects.filter(pk__in=stale).delete()
    fresh = [
        UnitLineage(ancestor_id=a, descendant_id=d, depth=depth)
        for (a, d), depth in wanted_pairs.items()
        if (a, d) not in existing or existing[(a, d)][1] != depth
    ]
    UnitLineage.objects.bulk_create(fresh, batch_size=1000)
    written = len(changed_units) + len(stale) + len(fresh)
    if written:
        mark_data_changed()
    return written


def record_initial_history(reason: str) -> int:
    """Give every tracked record that has no history yet its first ("created") entry.

    The loaders write in bulk, which records no history; without a first entry the first edit of
    such a record could not show what it changed from. Returns the entries written.
    """
    from .models import Batch, Designation, FundingAllocation, PovertyStatus, UnitSuccession

    written = 0
    for model in (Unit, UnitSuccession, PovertyStatus, Batch, Designation, FundingAllocation):
        missing = model.objects.exclude(pk__in=model.history.values("id"))
        objects = list(missing)
        if objects:
            model.history.bulk_history_create(objects, batch_size=500, default_change_reason=reason)
            written += len(objects)
    return written
