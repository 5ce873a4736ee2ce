"""Writes that keep derived data consistent."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import DataVersion, Designation, FundingAllocation, PovertyStatus, Unit, UnitLineage, UnitSuccession


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
    from .models import Batch, Prefecture, ProgrammeFact, Province, PublishedProvinceCount

    written = 0
    for model in (
        Province,
        Prefecture,
        Unit,
        UnitSuccession,
        PovertyStatus,
        Batch,
        Designation,
        FundingAllocation,
        ProgrammeFact,
        PublishedProvinceCount,
    ):
        missing = model.objects.exclude(pk__in=model.history.values("id"))
        objects = list(missing)
        if objects:
            model.history.bulk_history_create(objects, batch_size=500, default_change_reason=reason)
            written += len(objects)
    return written


# -- writes to one record -----------------------------------------------------------------------


def locked(queryset: models.QuerySet) -> models.QuerySet:
    """`queryset`, read under a row lock held until the surrounding transaction ends.

    Every door that saves over an existing record reads it this way and checks the version its
    user saw against the locked row: a second writer of the same record then waits for the first
    to commit and sees its result, so "has someone else changed it?" and the save are one step.
    (PostgreSQL locks the row; SQLite has no row locks and serialises writers on the whole file.)
    """
    return queryset.select_for_update(of=("self",))


def save_fields(record: models.Model, changes: Mapping[str, Any], *, reason: str) -> list[str]:
    """Apply `changes` to `record` and write those fields only (and `updated_at`), with history.

    Writing only what the caller changed means two writers of different fields of the same
    record both keep their change. Returns the fields written.
    """
    for name, value in changes.items():
        setattr(record, name, value)
    fields = list(changes)
    if fields and any(f.name == "updated_at" for f in record._meta.concrete_fields):
        fields.append("updated_at")
    record._change_reason = reason
    record.save(update_fields=fields or None)
    return fields


class UnitInUse(ValueError):
    """A unit that records point at cannot be deleted; the message names them."""


@transaction.atomic
def delete_unit(unit: Unit, *, reason: str) -> None:
    """Delete a unit and its code successions, each with a history entry giving `reason`, then
    rebuild the lineage once.

    Refused (UnitInUse) while a designation, funding allocation or poverty status points at it:
    those are records of a real place, and deleting the unit would leave them pointing nowhere.
    A succession that names the unit as successor keeps its successor code (as for a successor
    outside the registry), so the predecessor's code history stays true.
    """
    blockers = [
        (Designation._meta.verbose_name_plural, Designation.objects.filter(unit=unit).count()),
        (FundingAllocation._meta.verbose_name_plural, FundingAllocation.objects.filter(unit=unit).count()),
        (PovertyStatus._meta.verbose_name_plural, PovertyStatus.objects.filter(unit=unit).count()),
    ]
    named = [f"{label}: {count}" for label, count in blockers if count]
    if named:
        message = _("%(unit)s cannot be deleted while records point at it (%(records)s). Delete or move them first.")
        raise UnitInUse(message % {"unit": unit, "records": ", ".join(named)})
    # One at a time so that each change is in history with the reason (a unit has a handful).
    for succession in UnitSuccession.objects.filter(successor=unit).select_related("predecessor"):
        save_fields(succession, {"successor": None}, reason=reason)
    for succession in UnitSuccession.objects.filter(predecessor=unit):
        succession._change_reason = reason
        succession.delete()
    unit._change_reason = reason
    unit.delete()  # its lineage rows go with it; other units' current pointers are rebuilt next
    rebuild_lineage()
