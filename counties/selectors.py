"""Reads for the public pages and exports: small functions with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet

from .models import Designation, FundingAllocation, PovertyStatus, Province, Unit, UnitLineage, UnitSuccession, UnitType

SCOPES = ("demonstration", "all")


def designated_units() -> QuerySet[Unit]:
    return Unit.objects.filter(Exists(Designation.objects.counted().filter(unit=OuterRef("pk"))))


def unit_list(scope: str) -> QuerySet[Unit]:
    """Units for the public list: demonstration counties (designated in any batch) or all units."""
    base = Unit.objects.all() if scope == "all" else designated_units()
    return base.select_related("province", "prefecture", "poverty_status", "current").prefetch_related(
        Prefetch(
            "designations",
            queryset=Designation.objects.counted().select_related("batch").order_by("batch__year", "batch__sequence", "pk"),
        )
    )


@dataclass(frozen=True)
class Facet:
    name: str
    value: str
    label: str
    count: int


def unit_facets(units: QuerySet[Unit]) -> dict[str, list[Facet]]:
    """Counts of the filtered units by province, batch year, poverty status, exit year and type (5 queries)."""
    plain = units.order_by().values("pk")
    provinces = Province.objects.filter(units__in=plain).annotate(n=Count("units")).order_by("code").values_list("code", "name_zh", "n")
    batch_years = (
        Designation.objects.counted()
        .filter(unit__in=plain)
        .values_list("batch__year")
        .annotate(n=Count("unit", distinct=True))
        .order_by("batch__year")
    )
    poverty = units.order_by().aggregate(
        yes=Count("pk", filter=Exists(PovertyStatus.objects.filter(unit=OuterRef("pk")))), total=Count("pk")
    )
    exit_years = PovertyStatus.objects.filter(unit__in=plain).values_list("exit_year").annotate(n=Count("pk")).order_by("exit_year")
    types = units.order_by().values_list("unit_type").annotate(n=Count("pk")).order_by("-n", "unit_type")
    type_labels = dict(UnitType.choices)
    return {
        "province": [Facet("province", code, name, n) for code, name, n in provinces],
        "batch_year": [Facet("batch_year", str(year), str(year), n) for year, n in batch_years],
        "poverty": [
            Facet("poverty", "true", "poverty", poverty["yes"]),
            Facet("poverty", "false", "other", poverty["total"] - poverty["yes"]),
        ],
        "exit_year": [Facet("exit_year", str(year), str(year), n) for year, n in exit_years if year],
        "type": [Facet("type", value, str(type_labels.get(value, value)), n) for value, n in types],
    }


@dataclass
class Place:
    """A county as the public sees it: the unit in use and every code it was known by."""

    unit: Unit
    lineage: list[Unit]
    successions: list[UnitSuccession]
    designations: list[Designation]
    funding: list[FundingAllocation]
    poverty: list[PovertyStatus]

    @property
    def includes_illustrative(self) -> bool:
        return any(d.is_illustrative for d in self.designations) or any(f.is_illustrative for f in self.funding)


def place(unit: Unit) -> Place:
    """The unit and its predecessors (the units that became it), with their records (5 queries)."""
    lineage_ids = list(UnitLineage.objects.filter(descendant=unit).order_by("-depth").values_list("ancestor", flat=True))
    lineage = sorted(
        Unit.objects.filter(pk__in=lineage_ids).select_related("province", "prefecture"),
        key=lambda u: (u.first_year or 0, u.key),
    )
    successions = list(UnitSuccession.objects.filter(predecessor__in=lineage_ids).select_related("predecessor", "successor"))
    designations = list(
        Designation.objects.filter(unit__in=lineage_ids).select_related("batch", "unit").order_by("batch__year", "batch__sequence", "pk")
    )
    funding = list(FundingAllocation.objects.filter(unit__in=lineage_ids).select_related("unit").order_by("fiscal_year", "level", "pk"))
    poverty = list(PovertyStatus.objects.filter(unit__in=lineage_ids).select_related("unit"))
    return Place(unit, lineage, successions, designations, funding, poverty)


def export_rows(units: QuerySet[Unit]) -> tuple[list[str], list[list[Any]]]:
    """The filtered unit list as a table, for CSV and XLSX downloads."""
    header = [
        "code",
        "name_zh",
        "name_pinyin",
        "name_en",
        "type",
        "province_code",
        "province",
        "prefecture",
        "in_use",
        "current_code",
        "poverty_county",
        "exit_year",
        "designations",
        "includes_illustrative",
    ]
    rows = []
    for unit in units:
        designations = list(unit.designations.all())
        poverty = getattr(unit, "poverty_status", None)
        rows.append(
            [
                unit.key,
                unit.name_zh,
                unit.name_pinyin,
                unit.name_en,
                unit.unit_type,
                unit.province.code,
                unit.province.name_zh,
                unit.prefecture.name_zh if unit.prefecture else "",
                "yes" if unit.is_in_use else "no",
                unit.current.key if unit.current else "",
                "yes" if poverty else "no",
                poverty.exit_year if poverty and poverty.exit_year else "",
                "; ".join(f"{d.batch.year}:{d.source_kind}" for d in designations),
                "yes" if any(d.is_illustrative for d in designations) else "no",
            ]
        )
    return header, rows
