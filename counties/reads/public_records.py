"""THE definition of the public records: for each kind the public may read, its model, its stable
name, its key, its public fields (names and order), what the public may see of it, and the values
of those fields as the API's detail endpoint shows them.

The change feed records rows with these values (`counties.writes.feed`), the feed's API and pages
and the data package read them; a kind added here is fed, packaged and replayed with nothing else
to change. A test holds `public_record` to the API's detail output for every kind that has one.

A record's fields are its own, with the records it points at named by their keys (a designation's
unit by its registry key, its batch by id), as the API names them; the names and counts the API
works out from other records (a batch's recorded designations, a unit's designations) are not
public fields of the record: those records are fed as kinds of their own. Where the API shows
only another record's fields to say what a record belongs to (an assessment names its
designation's county and batch), they are fields of the record, and a change of that other record
feeds the record again (`PublicKind.dependents`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import models
from rest_framework import fields as drf

from counties.models import (
    Assessment,
    Batch,
    Designation,
    FundingAllocation,
    Indicator,
    IndicatorValue,
    Pairing,
    PovertyStatus,
    ProgrammeFact,
    PublishedProvinceCount,
    Unit,
    UnitSuccession,
    code_in_use,
)

Getter = Callable[[Any], Any]

_DATETIME = drf.DateTimeField()
# The API's money of an assessment's conditional funding (`YUAN` of its statistics serializers).
_YUAN = drf.DecimalField(max_digits=18, decimal_places=2)


def _plain(model_field: models.Field | None, value: Any) -> Any:
    """`value` as the API writes it in JSON: DRF's representation of the model field's type."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _DATETIME.to_representation(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if isinstance(model_field, models.DecimalField):
            return _decimal_field(model_field.max_digits, model_field.decimal_places).to_representation(value)
        return _YUAN.to_representation(value)
    return value


@cache
def _decimal_field(max_digits: int | None, decimal_places: int | None) -> drf.DecimalField:
    return drf.DecimalField(max_digits=max_digits, decimal_places=decimal_places)


@dataclass(frozen=True)
class Dependent:
    """Records of another kind whose public fields show this kind's fields: `lookup` finds them by
    this kind's primary keys (e.g. the assessments of changed designations)."""

    kind: str
    lookup: str


@dataclass(frozen=True)
class PublicKind:
    """One kind of public record."""

    name: str  # stable, snake_case: the feed's and the package's name of the kind
    model: type[models.Model]
    key_field: str  # the record's key in the API ("key", "code", "fact_id", or "pk": shown as "id")
    fields: tuple[str, ...]  # public fields, in order
    getters: dict[str, Getter] = field(default_factory=dict)  # fields not read as the model's own attribute
    related: tuple[str, ...] = ()  # select_related for the getters
    unit_path: str | None = None  # how a record reaches its unit (for the county and province filters)
    province_path: str | None = None  # how it reaches its province's code
    detail_route: str | None = None  # the API's detail endpoint (route name), if it has one
    dependents: tuple[Dependent, ...] = ()

    def queryset(self) -> models.QuerySet:
        """What the public may see of this kind (every record, today: none is held back)."""
        return self.model._default_manager.select_related(*self.related).order_by("pk")

    def key(self, instance: models.Model) -> str:
        return str(getattr(instance, self.key_field))

    def value(self, instance: models.Model, name: str) -> Any:
        getter = self.getters.get(name)
        if getter is not None:
            return getter(instance)
        model_field = self.model._meta.get_field(name)
        if isinstance(model_field, models.ForeignKey):
            return getattr(instance, model_field.attname)
        return _plain(model_field if isinstance(model_field, models.Field) else None, getattr(instance, name))

    def record(self, instance: models.Model) -> dict[str, Any]:
        return {name: self.value(instance, name) for name in self.fields}


def _key(path: str) -> Getter:
    """The key of a related record (`path` through attributes), or None where a link is empty."""

    def get(instance: Any) -> Any:
        for part in path.split("."):
            instance = getattr(instance, part)
            if instance is None:
                return None
        return instance

    return get


def _unit_province(unit: Unit) -> dict[str, Any]:
    p = unit.province
    return {"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en, "short_name_zh": p.short_name_zh, "short_name_en": p.short_name_en}


def _unit_prefecture(unit: Unit) -> dict[str, Any] | None:
    p = unit.prefecture
    return None if p is None else {"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en}


def _conditional_yuan(assessment: Assessment) -> Any:
    funding = assessment.conditional_funding
    return None if funding is None else _YUAN.to_representation(funding.amount)


PROVENANCE = ("source", "source_kind", "source_note")

KINDS: tuple[PublicKind, ...] = (
    PublicKind(
        "unit",
        Unit,
        "key",
        (
            "key",
            "code",
            "name_zh",
            "name_pinyin",
            "name_en",
            "name_en_generated",
            "other_names",
            "unit_type",
            "parent_type",
            "province",
            "prefecture",
            "first_year",
            "last_year",
            "in_use",
            "current",
            "updated_at",
        ),
        getters={
            "province": _unit_province,
            "prefecture": _unit_prefecture,
            "in_use": lambda u: code_in_use(u.first_year, u.last_year),
            "current": _key("current.key"),
        },
        related=("province", "prefecture", "current"),
        unit_path="pk",
        province_path="province__code",
        detail_route="api:county-detail",
    ),
    PublicKind(
        "succession",
        UnitSuccession,
        "pk",
        ("id", "predecessor", "successor_code", "year", "kind", "is_primary"),
        getters={"id": lambda r: r.pk, "predecessor": _key("predecessor.key")},
        related=("predecessor",),
        unit_path="predecessor_id",
        province_path="predecessor__province__code",
    ),
    PublicKind(
        "poverty_status",
        PovertyStatus,
        "pk",
        (
            "id",
            "unit",
            "listed_name",
            "region",
            "exit_year",
            "exit_year_note",
            "exit_year_note_zh",
            "is_key_county_2012",
            "is_contiguous_area_county",
            "contiguous_area",
            "category_source",
            *PROVENANCE,
            "created_at",
            "updated_at",
        ),
        getters={"id": lambda r: r.pk, "unit": _key("unit.key")},
        related=("unit",),
        unit_path="unit_id",
        province_path="unit__province__code",
        detail_route="api:poverty-status-detail",
    ),
    PublicKind(
        "batch",
        Batch,
        "pk",
        (
            "id",
            "year",
            "sequence",
            "title_zh",
            "title_en",
            "document_number",
            "document_date",
            "document_url",
            "planned_size",
            "provinces_count",
            "central_funds_total",
            "central_funds_per_county",
            "min_poverty_share_pct",
            "published_poverty_counties",
            "published_old_base_counties",
            "published_poverty_share_pct",
            "roster_complete",
            *PROVENANCE,
            "source_note_zh",
            "updated_at",
        ),
        getters={"id": lambda r: r.pk},
        detail_route="api:batch-detail",
        dependents=(Dependent("assessment", "designation__batch_id__in"),),
    ),
    PublicKind(
        "designation",
        Designation,
        "pk",
        (
            "id",
            "unit",
            "batch",
            "status",
            "is_old_revolutionary_base",
            "name_as_reported",
            *PROVENANCE,
            "created_at",
            "updated_at",
        ),
        getters={"id": lambda r: r.pk, "unit": _key("unit.key")},
        related=("unit",),
        unit_path="unit_id",
        province_path="unit__province__code",
        detail_route="api:designation-detail",
        dependents=(Dependent("assessment", "designation_id__in"),),
    ),
    PublicKind(
        "funding",
        FundingAllocation,
        "pk",
        (
            "id",
            "unit",
            "designation",
            "fiscal_year",
            "level",
            "amount",
            "purpose",
            "document_number",
            "document_url",
            *PROVENANCE,
            "created_at",
            "updated_at",
        ),
        getters={"id": lambda r: r.pk, "unit": _key("unit.key")},
        related=("unit",),
        unit_path="unit_id",
        province_path="unit__province__code",
        detail_route="api:funding-allocation-detail",
        dependents=(Dependent("assessment", "conditional_funding_id__in"),),
    ),
    PublicKind(
        "programme_fact",
        ProgrammeFact,
        "fact_id",
        ("fact_id", "period", "metric", "value", "value_text", "value_unit", *PROVENANCE, "source_note_zh", "updated_at"),
    ),
    PublicKind(
        "published_province_count",
        PublishedProvinceCount,
        "pk",
        ("id", "year", "province", "count", *PROVENANCE, "updated_at"),
        getters={"id": lambda r: r.pk, "province": _key("province.code")},
        related=("province",),
        province_path="province__code",
    ),
    PublicKind(
        "indicator",
        Indicator,
        "code",
        ("code", "name_zh", "name_en", "unit_zh", "unit_en", "higher_is_better", "rule", "rule_threshold_pct", "rule_source", "position"),
        detail_route="api:indicator-detail",
    ),
    PublicKind(
        "indicator_value",
        IndicatorValue,
        "pk",
        ("id", "code", "indicator", "year", "value", *PROVENANCE, "updated_at"),
        getters={"id": lambda r: r.pk, "code": _key("unit.key"), "indicator": _key("indicator.code")},
        related=("unit", "indicator"),
        unit_path="unit_id",
        province_path="unit__province__code",
        detail_route="api:indicator-value-detail",
    ),
    PublicKind(
        "assessment",
        Assessment,
        "pk",
        (
            "id",
            "code",
            "batch_year",
            "batch_sequence",
            "year",
            "result",
            "score",
            "document_number",
            "document_url",
            "conditional_funding",
            "conditional_funding_yuan",
            "releases_funding",
            *PROVENANCE,
            "updated_at",
        ),
        getters={
            "id": lambda r: r.pk,
            "code": _key("designation.unit.key"),
            "batch_year": _key("designation.batch.year"),
            "batch_sequence": _key("designation.batch.sequence"),
            "conditional_funding_yuan": _conditional_yuan,
            "releases_funding": lambda r: r.releases_funding,
        },
        related=("designation__unit", "designation__batch", "conditional_funding"),
        unit_path="designation__unit_id",
        province_path="designation__unit__province__code",
        detail_route="api:assessment-detail",
    ),
    PublicKind(
        "pairing",
        Pairing,
        "pk",
        ("id", "code", "partner_name", "partner_kind", "partner_code", "start_year", "end_year", *PROVENANCE, "updated_at"),
        getters={"id": lambda r: r.pk, "code": _key("unit.key"), "partner_code": _key("partner_unit.key")},
        related=("unit", "partner_unit"),
        unit_path="unit_id",
        province_path="unit__province__code",
        detail_route="api:pairing-detail",
    ),
)

BY_NAME: dict[str, PublicKind] = {kind.name: kind for kind in KINDS}
BY_MODEL: dict[type[models.Model], PublicKind] = {kind.model: kind for kind in KINDS}


def kind_names() -> list[str]:
    return [kind.name for kind in KINDS]


def kind_of(model: type[models.Model]) -> PublicKind | None:
    """The public kind of `model`, or None for a model the public does not read."""
    return BY_MODEL.get(model)


def public_record(instance: models.Model) -> dict[str, Any]:
    """The public fields of `instance`, with the values the API's detail endpoint shows for them."""
    kind = BY_MODEL[type(instance)]
    return kind.record(instance)


@dataclass(frozen=True)
class PublicRow:
    """What the feed records of one stored record: its kind, key, public fields, unit and province."""

    pk: Any
    kind: PublicKind
    key: str
    record: dict[str, Any]
    unit_id: int | None
    province: str


def public_rows(kind: PublicKind, pks: Iterable[Any]) -> list[PublicRow]:
    """The public rows of the stored records `pks` of `kind` the public may see, in pk order: a
    few queries per 900 records."""
    wanted = sorted(set(pks))
    rows: list[PublicRow] = []
    extra = {"feed_unit": kind.unit_path, "feed_province": kind.province_path}
    annotations = {name: models.F(path) for name, path in extra.items() if path is not None}
    for start in range(0, len(wanted), 900):
        chunk = kind.queryset().filter(pk__in=wanted[start : start + 900]).annotate(**annotations)
        for instance in chunk:
            rows.append(
                PublicRow(
                    pk=instance.pk,
                    kind=kind,
                    key=kind.key(instance),
                    record=kind.record(instance),
                    unit_id=getattr(instance, "feed_unit", None),
                    province=getattr(instance, "feed_province", None) or "",
                )
            )
    return rows


def dependent_pks(kind: PublicKind, pks: Sequence[Any]) -> list[tuple[PublicKind, list[Any]]]:
    """For the records `pks` of `kind`, the records of other kinds whose public fields show theirs."""
    found = []
    for dependent in kind.dependents:
        other = BY_NAME[dependent.kind]
        ids: list[Any] = []
        for start in range(0, len(pks), 900):
            chunk = list(pks[start : start + 900])
            ids += other.model._default_manager.filter(**{dependent.lookup: chunk}).order_by("pk").values_list("pk", flat=True)
        if ids:
            found.append((other, ids))
    return found
