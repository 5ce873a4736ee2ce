"""Change history read for people: what changed, in field labels and values in words, and the
change log across every record the registry keeps history of.

One renderer (`describe`) serves a record's *History* page, an old version's page and the staff
change log, so "革命老区县: 未知 → 否" reads the same everywhere. It works on a page of historical
records at a time, in a number of queries that does not depend on the page's size: the previous
versions in one query per model, and the records that foreign keys name in one query per model
they point at.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import CharField, F, IntegerField, OuterRef, Q, Subquery, Value
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from simple_history.utils import get_history_model_for_model

from counties.models import FundingAllocation, IndicatorValue, local_name, tracked_models
from counties.models.programme import LOADER_TEXT_IN_WORDS, in_reader_language
from counties.reads import numbers
from counties.reads.permissions import WriteScope, province_path, write_scope

# The kinds of history entry, as simple_history writes them.
CREATED, CHANGED, DELETED = "+", "~", "-"


def history_model(model: type[models.Model]) -> Any:
    """The model simple-history builds for `model`'s versions (at run time: it has no static type)."""
    return get_history_model_for_model(model)


def tracked_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields a version records, as fields of the model itself (labels, choices, relations)."""
    kept = {f.name for f in history_model(model).tracked_fields}
    return [f for f in model._meta.concrete_fields if f.name in kept and not f.primary_key]


# -- values in words ------------------------------------------------------------------------------

# Amounts of money, written as the pages write them (1,850 万元), not as stored (18500000.00).
MONEY_FIELDS = {
    "counties.FundingAllocation.amount",
    "counties.ProgrammeFact.central_funds_total",
    "counties.ProgrammeFact.central_funds_per_county",
}


def value_in_words(model_field: models.Field, value: Any, names: dict[tuple[type[models.Model], Any], str]) -> str:
    """A stored value as a person reads it: 是/否/未知, a choice's label, a record's name."""
    if isinstance(model_field, models.ForeignKey):
        if value is None:
            return "—"
        return names.get((model_field.related_model, value)) or _("#%(id)s (no longer exists)") % {"id": value}
    if isinstance(model_field, models.BooleanField):
        return _("unknown") if value is None else _("yes") if value else _("no")
    if value is None:
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if value == "":
        return _("(empty)")
    if isinstance(value, Decimal) and str(model_field) in MONEY_FIELDS:
        return numbers.money(value)
    if isinstance(value, Decimal):
        return numbers.stored(value, getattr(model_field, "decimal_places", None))
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "DATE_FORMAT")
    return in_reader_language(str(value))


def reason_in_words(reason: str | None) -> str:
    """A change's reason as the reader reads it: a loader's in the reader's language, a person's as written."""
    return in_reader_language(reason) if reason else "—"


def reasons_containing(text: str) -> list[str]:
    """The loaders' reasons whose words (in the reader's language) contain `text`, as stored: the
    change log's reason filter finds a loader's change by what the reader reads."""
    wanted = text.casefold()
    return [stored for stored, words in LOADER_TEXT_IN_WORDS.items() if wanted in str(words).casefold()]


# -- one page of history ----------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    """One historical record, described."""

    model: type[models.Model]
    record: Any  # the historical record
    label: str  # the record's name as it was
    changes: list[Change] = field(default_factory=list)
    values: list[tuple[str, str]] = field(default_factory=list)  # every field, in words
    has_previous: bool = False
    # The record's page and its history page, where a door links them.
    url: str | None = None
    history_url: str | None = None

    @property
    def kind(self) -> str:
        return self.record.history_type

    @property
    def kind_label(self) -> str:
        return {CREATED: _("created"), CHANGED: _("changed"), DELETED: _("deleted")}.get(self.kind, self.kind)

    @property
    def verbose_name(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def reason(self) -> str:
        return reason_in_words(self.record.history_change_reason)

    @property
    def object_id(self) -> Any:
        return self.record.id


def previous_ids(model: type[models.Model], records: Sequence[Any]) -> dict[int, int | None]:
    """history_id → the history_id of the same record's version before it (one query)."""
    missing = [r.history_id for r in records if not hasattr(r, "previous_history_id")]
    found = {r.history_id: r.previous_history_id for r in records if hasattr(r, "previous_history_id")}
    if missing:
        rows = history_model(model).objects.filter(history_id__in=missing).annotate(previous_history_id=previous_version_id(model))
        found |= dict(rows.order_by().values_list("history_id", "previous_history_id"))
    return found


def previous_version_id(model: type[models.Model]) -> Subquery:
    """The history_id of the version before the outer one, as a subquery (for annotate)."""
    earlier = (
        history_model(model)
        .objects.filter(id=OuterRef("id"), history_date__lte=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    return Subquery(earlier, output_field=IntegerField())


def _related_objects(keys: dict[type[models.Model], set[Any]]) -> dict[tuple[type[models.Model], Any], models.Model]:
    """The records foreign keys name, one query per model, with their own foreign keys loaded (so
    that their names, e.g. a designation's "宣化区 (130705) — 2016年…", cost no more queries)."""
    found: dict[tuple[type[models.Model], Any], models.Model] = {}
    for related, ids in keys.items():
        ids.discard(None)
        if not ids:
            continue
        forward = [f.name for f in related._meta.concrete_fields if f.is_relation]
        for obj in related._default_manager.select_related(*forward).filter(pk__in=ids).order_by():
            found[(related, obj.pk)] = obj
    return found


def _label(model: type[models.Model], record: Any, fields: list[models.Field], objects: dict) -> str:
    """The record's name as it was in this version, without a query per record (simple_history's
    `record.instance` reads the fields it does not keep, e.g. timestamps, from the live record)."""
    instance = model(**{f.attname: getattr(record, f.attname) for f in [model._meta.pk, *fields]})
    for f in fields:
        if isinstance(f, models.ForeignKey):
            target = objects.get((f.related_model, getattr(record, f.attname)))
            if target is None and getattr(record, f.attname) is not None:
                return f"{model._meta.verbose_name} #{record.id}"
            if target is not None:
                setattr(instance, f.name, target)
    try:
        # Their own __str__ writes the amount or value as stored, and an indicator by its code.
        if isinstance(instance, FundingAllocation):
            return f"{instance.unit} {instance.fiscal_year} {instance.get_level_display()}: {numbers.money(instance.amount)}"
        if isinstance(instance, IndicatorValue):
            indicator = local_name(instance.indicator.name_zh, instance.indicator.name_en)
            return f"{instance.unit} {indicator} {instance.year}: {numbers.decimal(instance.value)}"
        return str(instance)
    except ObjectDoesNotExist:
        return f"{model._meta.verbose_name} #{record.id}"


def describe(model: type[models.Model], records: Sequence[Any], *, with_values: bool = False) -> list[Entry]:
    """Describe historical records of `model`: each version's changes from the one before it, in
    labels and words (and, with `with_values`, every field's value). Queries: one for the earlier
    versions' ids (none when the records carry `previous_history_id`), one for the earlier
    versions, one per model the foreign keys point at."""
    records = list(records)
    if not records:
        return []
    fields = tracked_fields(model)
    before_ids = previous_ids(model, records)
    wanted = {i for i in before_ids.values() if i is not None}
    before = {r.history_id: r for r in history_model(model).objects.filter(history_id__in=wanted).order_by()} if wanted else {}
    keys: dict[type[models.Model], set[Any]] = defaultdict(set)
    for record in [*records, *before.values()]:
        for f in fields:
            if isinstance(f, models.ForeignKey):
                keys[f.related_model].add(getattr(record, f.attname))
    objects = _related_objects(keys)
    names = {key: str(obj) for key, obj in objects.items()}
    entries = []
    for record in records:
        previous = before.get(before_ids.get(record.history_id))
        entry = Entry(model=model, record=record, label=_label(model, record, fields, objects), has_previous=previous is not None)
        if record.history_type == CHANGED and previous is not None:
            for f in fields:
                old, new = getattr(previous, f.attname), getattr(record, f.attname)
                if old != new:
                    entry.changes.append(
                        Change(label=str(f.verbose_name), old=value_in_words(f, old, names), new=value_in_words(f, new, names))
                    )
        if with_values:
            entry.values = [(str(f.verbose_name), value_in_words(f, getattr(record, f.attname), names)) for f in fields]
        entries.append(entry)
    return entries


# -- one record since a version ------------------------------------------------------------------


def latest_version_id(model: type[models.Model], pk: Any) -> int:
    """The history_id of the record's latest version (0 when it has none yet): what an editor's
    copy is a copy of, so that what others save after it can be told apart (`changes_since`)."""
    found = history_model(model).objects.filter(id=pk).order_by("-history_id").values_list("history_id", flat=True).first()
    return found or 0


def changes_since(model: type[models.Model], pk: Any, history_id: int) -> list[Entry]:
    """The versions of one record saved after its version `history_id`, oldest first, described:
    who saved each, when, and which fields it changed (two queries, and one per related model)."""
    records = (
        history_model(model)
        .objects.filter(id=pk, history_id__gt=history_id)
        .select_related("history_user")
        .annotate(previous_history_id=previous_version_id(model))
        .order_by("history_date", "history_id")
    )
    return describe(model, list(records))


# -- the change log ---------------------------------------------------------------------------------


@dataclass
class ChangeLogFilter:
    """The change log's filters, already validated by the form."""

    user_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    model: type[models.Model] | None = None
    province_id: int | None = None
    reason: str = ""


def _row_queryset(model: type[models.Model], filters: ChangeLogFilter, scope: WriteScope) -> models.QuerySet | None:
    """One model's versions as rows of the same shape (for the union), or None when the filters
    rule the model out (a province asked for, and the model has none) or the account sees none
    of its versions."""
    path = province_path(model)
    seen = scope.staff_data_q(path)
    if seen is None or (filters.province_id is not None and path is None):
        return None
    rows = history_model(model).objects.order_by().filter(seen)
    if filters.province_id is not None and path is not None:
        rows = rows.filter(**{path: filters.province_id})
    if filters.user_id is not None:
        rows = rows.filter(history_user_id=filters.user_id)
    if filters.since is not None:
        rows = rows.filter(history_date__gte=timezone.make_aware(dt.datetime.combine(filters.since, dt.time.min)))
    if filters.until is not None:
        rows = rows.filter(history_date__lte=timezone.make_aware(dt.datetime.combine(filters.until, dt.time.max)))
    if filters.reason:
        rows = rows.filter(
            Q(history_change_reason__icontains=filters.reason) | Q(history_change_reason__in=reasons_containing(filters.reason))
        )
    # Every part has the same columns in the same order: one name per column, all annotations.
    return rows.annotate(
        log_model=Value(model._meta.label_lower, output_field=CharField()),
        log_history_id=F("history_id"),
        log_date=F("history_date"),
    ).values_list("log_model", "log_history_id", "log_date")


def visible_models(may_view: Any) -> list[type[models.Model]]:
    """The tracked models an account may see (`may_view(model)`: the admin's view permission)."""
    return [m for m in tracked_models() if may_view(m)]


def change_log(user: AbstractUser | AnonymousUser, models_seen: Iterable[type[models.Model]], filters: ChangeLogFilter) -> Any:
    """Every version of every record `user` may see, newest first, as (model label, history_id,
    date) rows: one UNION query, to be paginated (its count and page are two queries).

    What a provincial editor sees is `WriteScope.sees_staff_data`: the changes of their province's
    records only.
    """
    scope = write_scope(user)
    chosen = [m for m in models_seen if filters.model is None or m is filters.model]
    parts = [q for q in (_row_queryset(m, filters, scope) for m in chosen) if q is not None]
    if not parts:
        return history_model(tracked_models()[0]).objects.none().values_list("history_id")
    first, *rest = parts
    return (first.union(*rest, all=True) if rest else first).order_by("-log_date", "-log_history_id", "log_model")


def editors_seen(user: AbstractUser | AnonymousUser, models_seen: Iterable[type[models.Model]]) -> models.QuerySet:
    """The staff accounts whose changes `user` sees in the change log (its "changed by" choices):
    every staff account for an account of every province; for a provincial editor those who
    changed their province's records (`WriteScope.sees_staff_data`), so the names of other
    provinces' staff are not shown either."""
    accounts = get_user_model().objects.filter(is_staff=True).order_by("username", "pk")
    scope = write_scope(user)
    if scope.unrestricted:
        return accounts
    editors: set[int] = set()
    for model in models_seen:
        seen = scope.staff_data_q(province_path(model))
        if seen is not None:
            rows = history_model(model).objects.order_by().filter(seen, history_user__isnull=False)
            editors.update(rows.values_list("history_user_id", flat=True).distinct())
    return accounts.filter(pk__in=editors)


def entries_for_rows(rows: Sequence[tuple[str, int, Any]]) -> list[Entry]:
    """The page's rows described: per model, one query for its versions (with their users and
    the id of the version before each), then `describe`."""
    by_model: dict[str, list[int]] = defaultdict(list)
    for label, history_id, _date in rows:
        by_model[label].append(history_id)
    described: dict[tuple[str, int], Entry] = {}
    for label, ids in by_model.items():
        model = apps.get_model(label)
        records = list(
            history_model(model)
            .objects.filter(history_id__in=ids)
            .select_related("history_user")
            .annotate(previous_history_id=previous_version_id(model))
            .order_by()
        )
        for entry in describe(model, records):
            described[(label, entry.record.history_id)] = entry
    return [described[(label, history_id)] for label, history_id, _date in rows if (label, history_id) in described]
