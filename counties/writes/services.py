"""Every change to the data goes through here: scope, history with a reason, lineage upkeep, the
replacement rule and the data-version bump (`counties.caching.token.mark_data_changed`, once per
transaction). The doors (admin, API, commands, loaders) call these functions; nothing is done
behind `Model.save()`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, models, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import get_history_manager_for_model, get_history_model_for_model

from counties.caching.token import mark_data_changed
from counties.models import (
    CHANGE_REASON_MAX_LENGTH,
    Assessment,
    Batch,
    Designation,
    FundingAllocation,
    ImportRecord,
    IndicatorValue,
    LifecycleRecord,
    PovertyStatus,
    ProgrammeLevel,
    Provenance,
    SourceKind,
    TimeStamped,
    Unit,
    UnitLineage,
    UnitSuccession,
    code_in_use,
    code_not_in_use_error,
    designation_kind_problem,
    lines_apart,
    no_control_characters,
    other_place_link,
    poverty_counties_problem,
    sources_separated,
    tracked_models,
)
from counties.reads.permissions import WriteScope, provinces_of, stored_province_ids, write_scope
from counties.reads.places import place_resolver, repeat_selections
from counties.writes import feed

# -- lineage ------------------------------------------------------------------------------------


class SuccessionCycleError(ValueError):
    pass


@transaction.atomic
def rebuild_lineage() -> int:
    """Recompute `Unit.current` and the `UnitLineage` closure from the primary successions.

    Called by every service that creates units or changes successions. Touches only rows that
    differ, so a second call changes nothing. Returns the number of rows written (current
    pointers changed + lineage rows added or removed).
    """
    resolver = place_resolver()
    units = dict(Unit.objects.values_list("pk", "current_id"))

    wanted_pairs: dict[tuple[int, int], int] = {}
    wanted_current: dict[int, int] = {}
    for unit_id in units:
        chain = resolver.chain(unit_id)
        if chain[-1] in resolver.successor:
            raise SuccessionCycleError(f"primary successions form a cycle through unit id {resolver.successor[chain[-1]][0]}")
        wanted_current[unit_id] = chain[-1]
        for depth, descendant in enumerate(chain):
            wanted_pairs[(unit_id, descendant)] = depth

    changed_units = [Unit(pk=pk, current_id=wanted_current[pk]) for pk, current in units.items() if current != wanted_current[pk]]
    Unit.objects.bulk_update(changed_units, ["current"], batch_size=500)
    # A unit's `current` is public: the units whose place moved are fed as changed.
    feed.record_written(Unit, [unit.pk for unit in changed_units], created=False)

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


# -- a code in use in the record's year --------------------------------------------------------


class CodeNotInUse(ValidationError):
    """A record names its unit by a code that was not in use in the record's year."""


def check_codes_in_use(records: Sequence[models.Model]) -> None:
    """The rule of `models.code_not_in_use_error`, checked by the services for every door and
    loader: a designation names its unit by the code in use in its batch year, funding in its
    fiscal year, an indicator value in its year. Two queries, whatever the number of records;
    the message, with the right code suggested, is worked out for the refused ones only."""
    batch_ids = {r.batch_id for r in records if isinstance(r, Designation)}
    batch_years = dict(Batch.objects.filter(pk__in=batch_ids).values_list("pk", "year")) if batch_ids else {}
    dated: list[tuple[int, int]] = []
    for record in records:
        unit_id = getattr(record, "unit_id", None)
        if isinstance(record, Designation):
            year = batch_years.get(record.batch_id)
        elif isinstance(record, FundingAllocation):
            year = record.fiscal_year
        elif isinstance(record, IndicatorValue):
            year = record.year
        else:
            year = None
        if unit_id is not None and year is not None:
            dated.append((unit_id, year))
    unit_ids = sorted({unit_id for unit_id, _year in dated})
    years_of: dict[int, tuple[int | None, int | None]] = {}
    for start in range(0, len(unit_ids), 900):
        rows = Unit.objects.filter(pk__in=unit_ids[start : start + 900]).values_list("pk", "first_year", "last_year")
        years_of.update({pk: (first, last) for pk, first, last in rows})
    refused = [
        code_not_in_use_error(Unit.objects.get(pk=unit_id), year)
        for unit_id, year in dated
        if unit_id in years_of and not code_in_use(*years_of[unit_id], year)
    ]
    if refused:
        shown = "; ".join(str(message) for message in refused[:10])
        more = len(refused) - 10
        raise CodeNotInUse(shown + (f"; … {more} more" if more > 0 else ""))


# -- links stay within one place --------------------------------------------------------------


class LinkRefused(ValidationError):
    """A record that points at a record of another place (`models.other_place_link`)."""


def _units_of(model: type[models.Model], pks: Iterable[Any]) -> dict[Any, int]:
    """The unit id of each stored record of `model` (designations, funding) by primary key."""
    wanted = sorted(set(pks))
    found: dict[Any, int] = {}
    for start in range(0, len(wanted), 900):
        found.update(model._default_manager.filter(pk__in=wanted[start : start + 900]).order_by().values_list("pk", "unit_id"))
    return found


@dataclass
class Link:
    """One record pointing at another; a record not in hand is named by its model and key."""

    model: type[models.Model]
    pk: Any
    unit_id: Any
    linked_model: type[models.Model]
    linked_pk: Any
    linked_unit_id: Any
    record: models.Model | None = None
    linked: models.Model | None = None

    def describe(self, units: dict[Any, Unit]) -> str:
        record = self.record or self.model._default_manager.get(pk=self.pk)
        linked = self.linked or self.linked_model._default_manager.get(pk=self.linked_pk)
        return other_place_link(record, units[self.unit_id], linked, units[self.linked_unit_id])


def check_links(records: Sequence[models.Model]) -> None:
    """The place rule for every link a write makes or keeps, checked by the services for every door
    and loader: a funding record's designation, an assessment's conditional funding, and the funding
    records stored against a designation whose unit is written, belong to the record's own place
    (one line of code changes, `models.lines_apart`). A few queries whatever the number of records;
    the message, naming both records, is worked out for the refused ones only."""
    funding = [r for r in records if isinstance(r, FundingAllocation) and r.designation_id is not None and r.unit_id is not None]
    assessed = [r for r in records if isinstance(r, Assessment) and r.conditional_funding_id is not None and r.designation_id]
    designations = {r.pk: r for r in records if isinstance(r, Designation) and r.pk is not None and r.unit_id is not None}
    designation_units = _units_of(Designation, [*(r.designation_id for r in funding), *(r.designation_id for r in assessed)])
    funding_units = _units_of(FundingAllocation, [r.conditional_funding_id for r in assessed])
    links = [
        Link(FundingAllocation, r.pk, r.unit_id, Designation, r.designation_id, designation_units.get(r.designation_id), record=r)
        for r in funding
    ]
    links += [
        Link(
            Assessment,
            r.pk,
            designation_units.get(r.designation_id),
            FundingAllocation,
            r.conditional_funding_id,
            funding_units.get(r.conditional_funding_id),
            record=r,
        )
        for r in assessed
    ]
    ids = sorted(designations)
    for start in range(0, len(ids), 900):
        stored = FundingAllocation.objects.filter(designation_id__in=ids[start : start + 900]).order_by("pk")
        for pk, unit_id, designation_id in stored.values_list("pk", "unit_id", "designation_id"):
            designation = designations[designation_id]
            links.append(Link(FundingAllocation, pk, unit_id, Designation, designation_id, designation.unit_id, linked=designation))
    apart = lines_apart((link.unit_id, link.linked_unit_id) for link in links if link.unit_id and link.linked_unit_id)
    refused = [link for link in links if (link.unit_id, link.linked_unit_id) in apart]
    if refused:
        shown = refused[:10]
        units = Unit.objects.select_related("province").in_bulk({u for link in shown for u in (link.unit_id, link.linked_unit_id)})
        more = len(refused) - len(shown)
        message = "; ".join(link.describe(units) for link in shown) + (f"; … {more} more" if more > 0 else "")
        raise LinkRefused(message, code="other_place_link")


# -- sources that link ---------------------------------------------------------------------------


class SourceRefused(ValidationError):
    """A record's source that the pages could not link: two URLs in one part, or a URL with text."""


def check_sources(records: Sequence[models.Model]) -> None:
    """The rule of `models.sources_separated`, checked by the services for every door and loader
    (the doors' forms and serializers run it first, on the field; a loader's rows reach it here).
    The first refused record is named with the rule's message."""
    for record in records:
        if not isinstance(record, Provenance):
            continue
        try:
            sources_separated(record.source)
        except ValidationError as exc:
            message = exc.message % exc.params if exc.params else exc.message
            raise SourceRefused(_("%(record)s: %(message)s"), code=exc.code, params={"record": str(record), "message": message}) from None


# -- history and its reason ---------------------------------------------------------------------


class ReasonRefused(ValidationError):
    """A change reason the history cannot keep: none, too long, or holding a control character."""


def check_reason(reason: str) -> None:
    """The change reason's rule, checked by every service below before it writes: a reason is
    given, fits the history's column and holds no control character. A door may ask it first (a
    form field's validator, the import command before it reads the file): the refusal is the same."""
    if not reason or not reason.strip():
        raise ReasonRefused(_("A reason is required: it is kept in the record's history."), code="reason_required")
    if len(reason) > CHANGE_REASON_MAX_LENGTH:
        raise ReasonRefused(
            _("The reason is %(length)s characters long; the history keeps at most %(limit)s."),
            code="reason_too_long",
            params={"length": len(reason), "limit": CHANGE_REASON_MAX_LENGTH},
        )
    try:
        no_control_characters(reason)
    except ValidationError as exc:
        raise ReasonRefused(exc.message, code=exc.code, params=exc.params) from None


def write_history(model: type[models.Model], objects: Sequence[models.Model], history_type: str, *, user: Any, reason: str) -> None:
    """History rows for records written in bulk ("+" created, "~" changed, "-" deleted), with the
    user and reason, in a few INSERTs (bulk writes send no signals, so no history otherwise); and
    their rows in the change feed: after the write for created and changed records, before the
    delete for deleted ones (the caller writes the history of a deletion before it deletes)."""
    if not objects:
        return
    pks = [obj.pk for obj in objects]
    if history_type == "-":
        feed.record_deleted(model, pks)
    else:
        feed.record_written(model, pks, created=history_type == "+")
    history = get_history_model_for_model(model)
    now = timezone.now()
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    rows = [
        history(
            history_date=now,
            history_user_id=user_id,
            history_change_reason=reason,
            history_type=history_type,
            **{f.attname: getattr(obj, f.attname) for f in history.tracked_fields},
        )
        for obj in objects
    ]
    history.objects.bulk_create(rows, batch_size=1000)


# What a designation says of its selection: the kind, and which place in which batch.
SELECTION_FIELDS = {"kind", "unit", "batch"}


def _selection(designation: Designation) -> tuple[Any, ...] | None:
    """What the stored designation says of its selection (read before and after a save)."""
    return Designation.objects.filter(pk=designation.pk).values_list("kind", "unit_id", "batch_id").first()


class KindRefused(ValidationError):
    """A designation's kind (new, repeat, upgraded) that the programme's record contradicts."""


def _national_selections(excluding: Any = None) -> list[tuple[Any, int, int, str, str]]:
    """(pk, unit, batch year, kind, source kind) of every stored national designation."""
    rows = Designation.objects.filter(batch__level=ProgrammeLevel.NATIONAL).exclude(pk=excluding)
    return list(rows.values_list("pk", "unit_id", "batch__year", "kind", "source_kind"))


def _selected_before(rows: Sequence[tuple[Any, int, int, str, str]]) -> set[Any]:
    """Which of `rows` select again a place an earlier batch selected: an illustrative row judged
    against every row, a real one (official, secondary) against the real ones only, so that an
    invented designation never makes a real first selection a repeat."""
    resolver = place_resolver()
    every = repeat_selections(resolver, [(pk, unit, year) for pk, unit, year, _kind, _source in rows])
    real = repeat_selections(resolver, [(pk, unit, year) for pk, unit, year, _kind, source in rows if source != SourceKind.ILLUSTRATIVE])
    return {pk for pk, _unit, _year, _kind, source in rows if pk in (every if source == SourceKind.ILLUSTRATIVE else real)}


def check_designation_kinds(pks: Iterable[int]) -> None:
    """Refuse a written designation whose kind its place's national designations contradict
    (`models.designation_kind_problem`): judged after the write, over the stored national
    designations by the place rule, as `check_poverty_counties` judges the 832."""
    wanted = set(pks)
    if not wanted:
        return
    rows = _national_selections()
    again = _selected_before(rows)
    for pk, _unit, year, kind, _source in rows:
        if pk in wanted and (problem := designation_kind_problem(kind, year, pk in again)):
            designation = Designation.objects.select_related("unit", "batch").get(pk=pk)
            raise KindRefused(f"{designation.unit} ({designation.batch.year}): {problem}", code="kind")


def designation_kind_refusal(pk: Any, unit: Unit, batch: Batch, kind: str, source_kind: str) -> str | None:
    """What `check_designation_kinds` would refuse of a designation were it saved with these values
    (None: nothing): for a form that shows the refusal before it saves."""
    if batch.level != ProgrammeLevel.NATIONAL:
        return None
    this = pk if pk is not None else object()
    rows = [*_national_selections(excluding=pk), (this, unit.pk, batch.year, kind, source_kind)]
    return designation_kind_problem(kind, batch.year, this in _selected_before(rows))


def record_initial_history(reason: str) -> int:
    """Give every tracked record that has no history yet its first ("created") entry.

    The loaders write in bulk, which records no history; without a first entry the first edit of
    such a record could not show what it changed from. Returns the entries written.
    """
    check_reason(reason)
    written = 0
    for model in tracked_models():
        versions = get_history_model_for_model(model)
        objects = list(model._default_manager.exclude(pk__in=versions._default_manager.values("id")))
        if objects:
            get_history_manager_for_model(model).bulk_history_create(objects, batch_size=500, default_change_reason=reason)
            written += len(objects)
    return written


# -- one record: the admin and the API ------------------------------------------------------------


class OutOfScope(PermissionDenied):
    """A write outside the provinces the account may change."""


def check_scope(user: Any, record: models.Model) -> None:
    """Refuse a write of `record` (as it is now and as it is stored) outside `user`'s provinces."""
    scope = write_scope(user)
    if not scope.unrestricted:
        refuse_out_of_scope(scope, [record], stored_province_ids(type(record), [record.pk]) if record.pk is not None else None)


def refuse_out_of_scope(scope: WriteScope, records: Iterable[models.Model], stored: dict[Any, int | None] | None = None) -> None:
    """Raise OutOfScope for the first of `records` that `scope` refuses, each judged as it would be
    saved and, when `stored` maps primary keys to provinces as stored, as stored too (a record no
    longer stored has no province there: refused)."""
    if scope.unrestricted:
        return
    for record in records:
        refusal = scope.refusal(record, stored.get(record.pk)) if stored is not None else scope.refusal(record)
        if refusal is not None:
            raise OutOfScope(refusal)


def _changes_lineage(record: models.Model, *, created: bool = False, deleted: bool = False) -> bool:
    # A new unit needs its own lineage row and current pointer; a succession changes the closure.
    return isinstance(record, UnitSuccession) or (isinstance(record, Unit) and (created or deleted))


def _attribute(record: models.Model, user: Any, reason: str) -> None:
    record._change_reason = reason  # type: ignore[attr-defined]  # simple-history's documented attribute
    if user is not None and getattr(user, "is_authenticated", False):
        record._history_user = user  # type: ignore[attr-defined]  # simple-history's documented attribute


def _save(record: models.Model, user: Any, reason: str, fields: Sequence[str] | None = None) -> bool:
    """Check and save one record; whether the lineage must be rebuilt."""
    check_scope(user, record)
    check_codes_in_use([record])
    check_links([record])
    check_sources([record])
    created = record.pk is None
    stored = {} if created else feed.stored_keys(type(record), [record.pk])
    selection = _selection(record) if isinstance(record, Designation) and not created else None
    _attribute(record, user, reason)
    if fields is not None and not created:
        stamped = [f.name for f in record._meta.concrete_fields if f.name == "updated_at"]
        record.save(update_fields=[*fields, *stamped])
    else:
        record.save()
    if isinstance(record, PovertyStatus):
        check_poverty_counties()  # the doors have checked the record itself (its clean()); this is the set
    if isinstance(record, Designation) and (created or selection != _selection(record)):
        check_designation_kinds([record.pk])  # judged when what it says of the selection changes
    feed.record_written(type(record), [record.pk], created=created, stored=stored)
    return _changes_lineage(record, created=created)


def _delete(record: models.Model, user: Any, reason: str) -> bool:
    """Check and delete one record; whether the lineage must be rebuilt."""
    check_scope(user, record)
    _attribute(record, user, reason)
    feed.record_deleted(type(record), [record.pk])
    record.delete()
    return _changes_lineage(record, deleted=True)


def _written(lineage_changed: bool) -> None:
    if lineage_changed:
        rebuild_lineage()
    mark_data_changed()


@transaction.atomic
def save_record(record: models.Model, *, user: Any, reason: str, fields: Sequence[str] | None = None) -> models.Model:
    """Save one record through any door: scope, history with the reason, lineage, data version.

    `fields` writes only those fields (and `updated_at`) of an existing record: two writers of
    different fields of the same record (an API PATCH) then both keep their change.
    """
    check_reason(reason)
    _written(_save(record, user, reason, fields))
    return record


@transaction.atomic
def delete_record(record: models.Model, *, user: Any, reason: str) -> None:
    """Delete one record through any door, with the reason in its history."""
    check_reason(reason)
    _written(_delete(record, user, reason))


@transaction.atomic
def save_records(saved: Iterable[models.Model], deleted: Iterable[models.Model], *, user: Any, reason: str) -> None:
    """Save and delete the records of one form (an admin page's inline rows) as one change, each
    as `save_record` and `delete_record` would, with the lineage rebuilt once at the end."""
    check_reason(reason)
    changed = [_save(record, user, reason) for record in saved]
    changed += [_delete(record, user, reason) for record in deleted]
    _written(any(changed))


# -- a designation's path: acceptance, withdrawal, funds -------------------------------------------


@transaction.atomic
def record_lifecycle(record: LifecycleRecord, *, user: Any, reason: str) -> LifecycleRecord:
    """Record a step of a designation's path (its acceptance, withdrawal, or central funds withheld or
    recovered) through any door: the model's rules (a withdrawal has its reason, the year is not
    before the batch's, the date lies in the year), then as `save_record`: the scope (a provincial
    editor records their own province's designations only), the change reason and history."""
    check_reason(reason)
    check_scope(user, record)  # before the record's rules: another province's record is not told apart
    record.full_clean()
    _written(_save(record, user, reason))
    return record


# -- the replacement rule -----------------------------------------------------------------------


class ReplacementBlocked(Exception):
    """Illustrative records cannot be removed because real records point at them."""


Cell = tuple[int, int]  # (batch id, province id)


def cells_q(cells: Iterable[Cell], prefix: str = "") -> Q:
    """Records in any of `cells` (batch, province)."""
    by_batch: dict[int, set[int]] = {}
    for batch_id, province_id in cells:
        by_batch.setdefault(batch_id, set()).add(province_id)
    condition = Q(pk__in=[])
    for batch_id, provinces in by_batch.items():
        condition |= Q(**{f"{prefix}batch_id": batch_id, f"{prefix}unit__province_id__in": sorted(provinces)})
    return condition


def replaced_by_official(cells: Iterable[Cell]) -> models.QuerySet[Designation]:
    """THE replacement rule: official designations of a (batch, province) cell replace that cell's
    illustrative designations, and nothing else. Secondary and unverified records stay beside them."""
    cells = set(cells)
    if not cells:
        return Designation.objects.none()
    return Designation.objects.filter(cells_q(cells), source_kind=SourceKind.ILLUSTRATIVE)


def official_cells(batch_ids: Iterable[int] | None = None) -> set[Cell]:
    """The (batch, province) cells that hold official designations; the roster never fills them."""
    rows = Designation.objects.filter(source_kind=SourceKind.OFFICIAL)
    if batch_ids is not None:
        rows = rows.filter(batch_id__in=list(batch_ids))
    return set(rows.values_list("batch_id", "unit__province_id").distinct())


def blocking_links(funding: Sequence[FundingAllocation]) -> list[FundingAllocation]:
    """Of the funding records that point at designations being removed, those that stop the
    removal: a real (non-illustrative) record, and a record of another place than its designation
    (a link the services refuse, kept from before they did): removing it with the designation
    would remove another place's record, perhaps another province's."""
    linked = [(f, d) for f in funding if (d := f.designation) is not None]
    apart = lines_apart((f.unit_id, d.unit_id) for f, d in linked)
    return [f for f, d in linked if f.source_kind != SourceKind.ILLUSTRATIVE or (f.unit_id, d.unit_id) in apart]


def describe_blockers(blockers: Sequence[FundingAllocation]) -> str:
    linked = [(f, d) for f in blockers[:10] if (d := f.designation) is not None]
    apart = lines_apart((f.unit_id, d.unit_id) for f, d in linked)
    shown = "; ".join(
        other_place_link(f, f.unit, d, d.unit)
        if (f.unit_id, d.unit_id) in apart
        else _("funding record %(id)s (%(kind)s) points at illustrative designation %(designation)s (id %(did)s)")
        % {"id": f.pk, "kind": f.source_kind, "designation": d, "did": d.pk}
        for f, d in linked
    )
    more = len(blockers) - 10
    shown = shown.rstrip(".") + (f"; … {more} more" if more > 0 else "")
    return shown + ". " + _("Point them at an official designation, or clear the link, first.")


def delete_rows(model: type[models.Model], pks: Sequence[int]) -> None:
    """DELETE these rows, 900 ids a statement, and nothing more: the caller has loaded them and
    written their history with its reason. QuerySet.delete() would load them again and send each
    row's signals, simple-history's writing a second history entry, without the reason, per row."""
    connection = connections[router.db_for_write(model)]
    column = model._meta.pk.column
    assert column is not None  # a primary key is a stored column
    delete = f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {connection.ops.quote_name(column)} IN "
    with connection.cursor() as cursor:
        for start in range(0, len(pks), 900):
            chunk = list(pks[start : start + 900])
            cursor.execute(delete + "(" + ", ".join(["%s"] * len(chunk)) + ")", chunk)


@dataclass
class Removal:
    designations: list[Designation] = field(default_factory=list)
    funding: int = 0


def remove_designations(designations: models.QuerySet[Designation], *, user: Any, reason: str, illustrative_only: bool = True) -> Removal:
    """Delete designations and their illustrative funding in a handful of queries, each with a
    history entry carrying `reason`. Refuses (ReplacementBlocked) when a real funding record points
    at one of them, and (OutOfScope) when one lies outside `user`'s provinces: nothing is removed then."""
    check_reason(reason)
    rows = list(designations.select_related("unit__province", "batch").order_by("pk"))
    if illustrative_only and any(d.source_kind != SourceKind.ILLUSTRATIVE for d in rows):
        raise ValueError("only illustrative designations are removed in bulk")
    scope = write_scope(user)
    refuse_out_of_scope(scope, rows)
    ids = [d.pk for d in rows]
    funding: list[FundingAllocation] = []
    for start in range(0, len(ids), 900):
        chunk = FundingAllocation.objects.filter(designation_id__in=ids[start : start + 900])
        funding += chunk.select_related("unit__province", "designation__unit__province", "designation__batch").order_by("pk")
    blockers = blocking_links(funding)
    if blockers:
        raise ReplacementBlocked(describe_blockers(blockers))
    # A designation's recorded path (acceptance, withdrawal) is a real record: it is not removed with it.
    stepped = sorted(
        set(LifecycleRecord.objects.filter(designation__in=designations.values("pk")).values_list("designation_id", flat=True))
    )
    if stepped:
        raise ReplacementBlocked(
            _("Designations %(ids)s have lifecycle records (acceptance, withdrawal or funds): move or remove those first.")
            % {"ids": ", ".join(map(str, stepped[:10])) + (" …" if len(stepped) > 10 else "")}
        )
    refuse_out_of_scope(scope, funding)  # each record removed, whatever it points at, as stored
    write_history(FundingAllocation, funding, "-", user=user, reason=reason)
    write_history(Designation, rows, "-", user=user, reason=reason)
    delete_rows(FundingAllocation, [f.pk for f in funding])
    delete_rows(Designation, ids)
    if rows:
        mark_data_changed()
    return Removal(designations=rows, funding=len(funding))


def remove_funding(funding: models.QuerySet[FundingAllocation], *, user: Any, reason: str) -> int:
    """Delete funding records in bulk, each with a history entry carrying `reason`; refused
    (OutOfScope) when one lies outside `user`'s provinces."""
    check_reason(reason)
    scope = write_scope(user)
    rows = list(funding.select_related("unit").order_by("pk") if not scope.unrestricted else funding.order_by("pk"))
    refuse_out_of_scope(scope, rows)
    write_history(FundingAllocation, rows, "-", user=user, reason=reason)
    delete_rows(FundingAllocation, [f.pk for f in rows])
    if rows:
        mark_data_changed()
    return len(rows)


# -- bulk writes: the imports and the roster ----------------------------------------------------


@dataclass
class CellCount:
    created: int = 0
    changed: int = 0
    removed: int = 0


@dataclass(frozen=True)
class RemovedRecord:
    """An illustrative designation a write removes, and the last change a person made to it."""

    record: str  # "2019-1 河北省 宣化区 (130705)"
    edited: str = ""  # "changed by wang on 2026-11-30 (reason …)", or empty


@dataclass
class WriteSummary:
    """What a bulk write creates, changes and removes, per (batch or year, province); and, in a
    preview, each record it removes by name."""

    cells: dict[tuple[str, str], CellCount] = field(default_factory=dict)
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    removed_funding: int = 0
    removals: list[RemovedRecord] = field(default_factory=list)
    import_record: ImportRecord | None = None  # an import written: its record, for the dashboard

    @property
    def writes_anything(self) -> bool:
        """Whether the write creates, changes or removes any record (a file that matches the
        registry has nothing to confirm)."""
        return bool(self.created or self.changed or self.removed or self.removed_funding)

    def cell(self, period: str, province: str) -> CellCount:
        return self.cells.setdefault((period, province), CellCount())

    def rows(self) -> list[tuple[str, str, CellCount]]:
        return [(period, province, count) for (period, province), count in sorted(self.cells.items())]


def batch_label(batch: Any) -> str:
    return f"{batch.year}-{batch.sequence}"


def province_label(unit: Unit) -> str:
    return unit.province.name_zh


def summarise(
    created: Sequence[models.Model], changed: Sequence[models.Model], removed: Sequence[Designation], unchanged: int
) -> WriteSummary:
    """The counts, and per (batch or year, province) cell those of the records of a unit. The cells'
    names are read in a few queries, whatever the records hold loaded (a loader's hold ids only)."""
    summary = WriteSummary(created=len(created), changed=len(changed), unchanged=unchanged, removed=len(removed))
    of_units: list[Any] = [r for r in [*created, *changed, *removed] if getattr(r, "unit_id", None) is not None]
    unit_ids = sorted({r.unit_id for r in of_units})
    provinces: dict[int, str] = {}
    for start in range(0, len(unit_ids), 900):
        provinces.update(Unit.objects.filter(pk__in=unit_ids[start : start + 900]).values_list("pk", "province__name_zh"))
    batch_ids = {r.batch_id for r in of_units if isinstance(r, Designation)}
    batches = {batch.pk: batch_label(batch) for batch in Batch.objects.filter(pk__in=batch_ids).only("year", "sequence")}
    for attr, records in (("created", created), ("changed", changed), ("removed", removed)):
        counts = Counter(
            (
                batches[r.batch_id] if isinstance(r, Designation) else str(getattr(r, "fiscal_year", None) or getattr(r, "year", "")),
                provinces[unit_id],
            )
            for r in records
            if (unit_id := getattr(r, "unit_id", None)) is not None
        )
        for (period, province), n in counts.items():
            setattr(summary.cell(period, province), attr, getattr(summary.cell(period, province), attr) + n)
    return summary


def plan_replacement(records: Iterable[models.Model]) -> set[Cell]:
    """The cells the official designations among `records` replace."""
    return {(r.batch_id, r.unit.province_id) for r in records if isinstance(r, Designation) and r.source_kind == SourceKind.OFFICIAL}


def preview_write(
    model: type[models.Model],
    created: Sequence[models.Model],
    changed: Sequence[models.Model],
    official: Iterable[models.Model],
    unchanged: int,
) -> WriteSummary:
    """What `write_records` would do, read-only: a dry run and the admin preview write nothing."""
    removed: list[Designation] = []
    if model is Designation:
        # A record the file turns from illustrative into official is changed, not removed.
        changing = {r.pk for r in changed}
        replaced = replaced_by_official(plan_replacement(official)).select_related("unit__province", "batch")
        removed = [d for d in replaced if d.pk not in changing]
    summary = summarise(created, changed, removed, unchanged)
    ids = [d.pk for d in removed]
    summary.removed_funding = sum(
        FundingAllocation.objects.filter(designation_id__in=ids[i : i + 900]).count() for i in range(0, len(ids), 900)
    )
    summary.removals = removals(removed)
    return summary


def removals(removed: Sequence[Designation]) -> list[RemovedRecord]:
    """The records a write would remove, by batch, province, name and code, each with the last
    change a person made to it since it was written (the roster writes with no user), so a
    preview can warn before an edit someone made by hand is replaced."""
    edits: dict[int, Any] = {}
    ids = [d.pk for d in removed]
    for start in range(0, len(ids), 900):
        changes = Designation.history.filter(id__in=ids[start : start + 900], history_type="~", history_user__isnull=False)
        for change in changes.select_related("history_user").order_by("history_date"):
            edits[change.id] = change  # the latest wins
    notes = []
    for d in sorted(removed, key=lambda d: (d.batch.year, d.batch.sequence, d.unit.province.code, d.unit.key)):
        change = edits.get(d.pk)
        edited = ""
        if change is not None:
            edited = _("changed by %(user)s on %(date)s (%(reason)s)") % {
                "user": change.history_user.get_username(),
                "date": timezone.localdate(change.history_date).isoformat(),
                "reason": change.history_change_reason or "",
            }
        notes.append(RemovedRecord(f"{batch_label(d.batch)} {province_label(d.unit)} {d.unit.name_zh} ({d.unit.key})", edited))
    return notes


def _refuse_illustrative_in_official_cells(created: Sequence[models.Model]) -> None:
    illustrative = [r for r in created if isinstance(r, Designation) and r.source_kind == SourceKind.ILLUSTRATIVE]
    if not illustrative:
        return
    taken = official_cells({r.batch_id for r in illustrative})
    refused = [r for r in illustrative if (r.batch_id, r.unit.province_id) in taken]
    if refused:
        raise ReplacementBlocked(
            _("%(n)s illustrative designation(s) fall in a batch and province that has official records, e.g. %(example)s")
            % {"n": len(refused), "example": refused[0]}
        )


class PovertyCountiesRefused(ValueError):
    """A write that would list more than the 832 poverty counties, or one place twice."""


def check_poverty_counties() -> None:
    """The 832 as a whole (models.poverty_counties_problem), after a write of poverty statuses and
    inside its transaction, which a refusal rolls back."""
    problem = poverty_counties_problem()
    if problem is not None:
        raise PovertyCountiesRefused(problem)


@transaction.atomic
def write_records(
    model: type[models.Model],
    created: Sequence[models.Model],
    changed: Sequence[TimeStamped],
    *,
    official: Iterable[models.Model] = (),
    fields: Sequence[str],
    user: Any,
    reason: str,
    unchanged: int = 0,
    import_file: str | None = None,
    rows: int = 0,
) -> WriteSummary:
    """Write validated records in bulk, in one transaction: the imports and the roster.

    Applies the replacement rule to the cells of the official designations among `official`
    (every official row of a file, changed or not), removing that cell's illustrative records
    with a history entry carrying `reason`; refuses illustrative records in official cells. Every
    record is checked against `user`'s scope again, as stored and as written (fail closed).

    An import (`import_file` given: the file's name, `rows` its data rows) is also recorded as an
    `ImportRecord` in the same transaction, for the data officers' dashboard.
    """
    check_reason(reason)
    official = list(official)
    scope = write_scope(user)
    if not scope.unrestricted:
        refuse_out_of_scope(scope, created)
        refuse_out_of_scope(scope, changed, stored_province_ids(model, [r.pk for r in changed]))
    check_codes_in_use([*created, *changed])
    check_links([*created, *changed])
    check_sources([*created, *changed])
    _refuse_illustrative_in_official_cells(created)
    now = timezone.now()
    model._default_manager.bulk_create(created, batch_size=1000)
    for record in changed:
        record.updated_at = now  # bulk_update does not apply auto_now
    model._default_manager.bulk_update(changed, [*fields, "updated_at"], batch_size=1000)
    write_history(model, created, "+", user=user, reason=reason)
    write_history(model, changed, "~", user=user, reason=reason)
    removal = Removal()
    if model is Designation:
        cells = plan_replacement(official)
        removal = remove_designations(replaced_by_official(cells), user=user, reason=reason)
    summary = summarise(created, changed, removal.designations, unchanged)
    summary.removed_funding = removal.funding
    if model in (Unit, UnitSuccession) and (created or changed):
        rebuild_lineage()
    if model is PovertyStatus and (created or changed):
        check_poverty_counties()
    if model is Designation:
        check_designation_kinds([record.pk for record in [*created, *(changed if SELECTION_FIELDS & set(fields) else ())]])
    if created or changed or removal.designations:
        mark_data_changed()
    if import_file is not None:
        provinces = provinces_of([*created, *changed, *official, *removal.designations])
        summary.import_record = ImportRecord.objects.create(
            province_id=next(iter(provinces)) if len(provinces) == 1 else None,
            user=user if user is not None and getattr(user, "is_authenticated", False) else None,
            model=model._meta.label_lower,
            file_name=import_file[:255],
            rows=rows,
            created=summary.created,
            changed=summary.changed,
            unchanged=summary.unchanged,
            removed=summary.removed,
            reason=reason,
        )
    return summary


# -- no lost updates, deleting a unit ---------------------------------------------------------


def locked(queryset: models.QuerySet) -> models.QuerySet:
    """`queryset`, read under a row lock held until the surrounding transaction ends.

    Every door that saves over an existing record reads it this way and checks the version its
    user saw against the locked row: a second writer of the same record then waits for the first
    to commit and sees its result, so "has someone else changed it?" and the save are one step.
    (PostgreSQL locks the row; SQLite has no row locks and serialises writers on the whole file.)
    """
    return queryset.select_for_update(of=("self",))


class UnitInUse(ValueError):
    """A unit that records point at cannot be deleted; the message names them."""


def records_pointing_at(unit: Unit) -> list[tuple[str, int]]:
    """(name of the records, how many) for every kind of tracked record that points at `unit`,
    read from the models' own relations, so a model added later is counted too. The unit's own
    code successions and its derived lineage are not among them: deleting the unit takes those."""
    counts: Counter[type[models.Model]] = Counter()
    for relation in Unit._meta.related_objects:
        model = relation.related_model
        if model in (Unit, UnitSuccession) or model not in tracked_models():
            continue
        counts[model] += model._default_manager.filter(**{relation.field.name: unit}).count()
    return [(str(model._meta.verbose_name_plural), count) for model, count in counts.items() if count]


@transaction.atomic
def delete_unit(unit: Unit, *, user: Any, reason: str) -> None:
    """Delete a unit and its code successions, each with a history entry giving `reason`, and keep
    the lineage consistent.

    Refused (UnitInUse) while any other tracked record (a designation, funding, a poverty status,
    an indicator value, a pairing) points at it: those are records of a real place, and deleting
    the unit would leave them pointing nowhere. A succession that names the unit as successor
    keeps its successor code (as for a successor outside the registry), so the predecessor's code
    history stays true.
    """
    check_reason(reason)
    named = [f"{label}: {count}" for label, count in records_pointing_at(unit)]
    if named:
        message = _("%(unit)s cannot be deleted while records point at it (%(records)s). Delete or move them first.")
        raise UnitInUse(message % {"unit": unit, "records": ", ".join(named)})
    # One at a time so that each change is in history with the reason (a unit has a handful);
    # the lineage is rebuilt once, after the unit (and its lineage rows) are gone.
    for succession in UnitSuccession.objects.filter(successor=unit).select_related("predecessor"):
        succession.successor = None
        _save(succession, user, reason, fields=["successor"])
    for succession in UnitSuccession.objects.filter(predecessor=unit).select_related("predecessor"):
        _delete(succession, user, reason)
    _delete(unit, user, reason)
    _written(lineage_changed=True)
