"""The public tables: for each kind of record the public sees, its model, key, public fields (in
order) and queryset, and `public_record(obj)`, the record as the public reads it.

The one definition of "the public fields": the data package (counties.reads.data_package) writes
these tables and nothing else; staff fields (change reasons, users, import records) are in none.
A foreign key is given as the key of the record it points to (a unit's registry key, a batch's id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import ForeignKey, Model, OneToOneField, QuerySet

from counties.models import (
    Assessment,
    Batch,
    Designation,
    FundingAllocation,
    Indicator,
    IndicatorValue,
    Pairing,
    PovertyStatus,
    Prefecture,
    Province,
    Unit,
)

PROVENANCE = ("source", "source_kind", "source_note")


@dataclass(frozen=True)
class PublicTable:
    kind: str
    model: type[Model]
    key: str
    fields: tuple[str, ...]
    ordering: tuple[str, ...]

    def queryset(self) -> QuerySet:
        related = [name for name in self.fields if isinstance(self.model._meta.get_field(name), ForeignKey | OneToOneField)]
        return self.model._default_manager.select_related(*related).order_by(*self.ordering)


TABLES: tuple[PublicTable, ...] = (
    PublicTable(
        "province",
        Province,
        "code",
        ("code", "name_zh", "name_pinyin", "name_en", "short_name_zh", "short_name_en", "updated_at"),
        ("code",),
    ),
    PublicTable("prefecture", Prefecture, "code", ("code", "name_zh", "name_pinyin", "name_en", "province", "updated_at"), ("code",)),
    PublicTable(
        "county",
        Unit,
        "key",
        (
            "key",
            "code",
            "name_zh",
            "name_pinyin",
            "name_en",
            "unit_type",
            "province",
            "prefecture",
            "parent_type",
            "first_year",
            "last_year",
            "current",
            "updated_at",
        ),
        ("key",),
    ),
    PublicTable(
        "batch",
        Batch,
        "id",
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
        ("year", "sequence", "id"),
    ),
    PublicTable(
        "designation",
        Designation,
        "id",
        ("id", "unit", "batch", "status", "is_old_revolutionary_base", "name_as_reported", *PROVENANCE, "created_at", "updated_at"),
        ("id",),
    ),
    PublicTable(
        "funding-allocation",
        FundingAllocation,
        "id",
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
        ("id",),
    ),
    PublicTable(
        "poverty-status",
        PovertyStatus,
        "id",
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
        ("id",),
    ),
    PublicTable(
        "indicator",
        Indicator,
        "code",
        (
            "code",
            "name_zh",
            "name_en",
            "unit_zh",
            "unit_en",
            "higher_is_better",
            "rule",
            "rule_threshold_pct",
            "rule_source",
            "position",
            "notes",
            "updated_at",
        ),
        ("code",),
    ),
    PublicTable("indicator-value", IndicatorValue, "id", ("id", "unit", "indicator", "year", "value", *PROVENANCE, "updated_at"), ("id",)),
    PublicTable(
        "assessment",
        Assessment,
        "id",
        (
            "id",
            "designation",
            "year",
            "result",
            "score",
            "document_number",
            "document_url",
            "conditional_funding",
            *PROVENANCE,
            "updated_at",
        ),
        ("id",),
    ),
    PublicTable(
        "pairing",
        Pairing,
        "id",
        ("id", "unit", "partner_name", "partner_kind", "partner_unit", "start_year", "end_year", *PROVENANCE, "updated_at"),
        ("id",),
    ),
)
BY_MODEL = {table.model: table for table in TABLES}


def public_record(obj: Model) -> dict[str, Any]:
    """The record's public fields, in order; a foreign key as the key of what it points to."""
    table = BY_MODEL[type(obj)]
    record: dict[str, Any] = {}
    for name in table.fields:
        field = obj._meta.get_field(name)
        if isinstance(field, ForeignKey | OneToOneField):
            target = getattr(obj, name)
            record[name] = None if target is None else getattr(target, BY_MODEL[type(target)].key)
        else:
            record[name] = getattr(obj, name)
    return record
