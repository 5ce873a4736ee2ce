"""Reads for the public pages, the API's county records and the exports: small functions with a
fixed number of queries, applying the place rule of `counties.reads.places` through the statistics'
list index, so the list, its facets and the API count what the home page counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from counties.models import (
    Designation,
    FundingAllocation,
    PovertyStatus,
    Province,
    SourceKind,
    Unit,
    UnitSuccession,
    UnitType,
    code_in_use,
    local_name,
)
from counties.reads import places, statistics
from counties.reads.sql import IdSetQuery

# What the county list shows: the demonstration counties (designated places, the home page's
# number), the units designated under their own code (retired codes included: batch entries'
# units), or every unit.
PLACES, UNITS, ALL = "demonstration", "designated", "all"
SCOPES = (PLACES, UNITS, ALL)
# A page number outside 1 to the last page, or not a number, is a 404 on the list and in the API
# alike (DRF's pagination refuses it so; Django's get_page would answer another page instead).
# DRF formats it with the number asked and the paginator's reason.
INVALID_PAGE_MESSAGE = _("There is no page {page_number}. {message}.")

SCOPE_LABELS = {
    PLACES: _("demonstration counties (places: units in use, counting designations under earlier codes)"),
    UNITS: _("designated units (codes, retired codes included)"),
    ALL: _("all county-level units (codes, retired codes included)"),
}


def unit_list(scope: str, province: str | None = None) -> QuerySet[Unit]:
    """Units for the public list and its exports, in one of the SCOPES; with the code of the
    province the list is filtered to, only that province's share of the scope's set goes to the
    database (the province filter still applies: an unknown code is the filter's error)."""
    units = Unit.objects.all()
    if scope == PLACES:
        units = units.filter(pk__in_ids=statistics.list_index().places_in(province))
    elif scope == UNITS:
        units = units.filter(pk__in_ids=statistics.list_index().designated_in(province))
    return units.select_related("province", "prefecture", "current")


def scope_totals() -> dict[str, int]:
    """How many places and how many designated units there are, unfiltered (the page says both)."""
    index = statistics.list_index()
    return {PLACES: len(index.places), UNITS: len(index.designated_units)}


@dataclass(frozen=True)
class Facet:
    name: str
    value: str
    label: str
    count: int


ListRow = tuple[int, int, str]  # a unit in the filtered list: pk, province pk, type


def list_rows(units: QuerySet[Unit]) -> list[ListRow]:
    """The filtered list as (pk, province, type) rows, in its order (one query): the page is a
    slice of it, its length the count and its facets are counted from it."""
    return list(units.values_list("pk", "province_id", "unit_type"))


def places_by_province(provinces: dict[int, Province]) -> dict[int, int]:
    """How many demonstration counties (places) each of `provinces` (by pk) has, unfiltered: the
    province table's number (`statistics.province_table`, counted from the same places as the
    list index's), so the list's province facet and the province pages give the same number."""
    pks = {p.code: pk for pk, p in provinces.items()}
    rows = statistics.province_table(statistics.list_index().as_of)
    return {pks[row.code]: row.demonstration_counties for row in rows if row.demonstration_counties and row.code in pks}


def unit_facets(
    list_rows: list[ListRow],
    provinces: dict[int, Province],
    others: dict[str, QuerySet[Unit] | dict[Any, int]] | None = None,
    count_as: str = statistics.PLACES,
) -> dict[str, list[Facet]]:
    """Counts of the filtered units (`list_rows`) by province, batch year, poverty status, exit
    year and type, under the same rules as the filters (no query: the rows and the cached list
    index; `provinces` names the provinces, by pk).

    `others` gives, for a facet whose own filter is chosen, the units filtered by everything but
    that filter, so the facet keeps showing its other values with their counts (choose 新疆, and
    the province facet still lists the other provinces): one more query each, a count by
    province or type in the database, or the units' keys for the facets the list index counts.
    For the province or type facet it may give the counts themselves (`places_by_province`)."""
    others = others or {}
    index = statistics.list_index()

    def counts(name: str, column: str, position: int) -> dict[Any, int]:
        other = others.get(name)
        if other is None:
            return Counter(row[position] for row in list_rows)
        if isinstance(other, dict):
            return other
        return dict(other.order_by().values_list(column).annotate(n=Count("pk")).values_list(column, "n"))

    def pks(name: str) -> set[int]:
        other = others.get(name)
        if other is None:
            return {pk for pk, _, _ in list_rows}
        assert not isinstance(other, dict)  # counts are given for the province and type facets only
        return set(other.order_by().values_list("pk", flat=True))

    province_counts = counts("province", "province_id", 1)
    poverty_pks = pks("poverty")
    poverty_set = index.poverty(count_as)
    poverty = poverty_pks & poverty_set
    exit_counts = index.exit_year_counts(pks("exit_year") & poverty_set)
    year_pks = pks("batch_year")
    types = counts("type", "unit_type", 2)
    type_labels = dict(UnitType.choices)
    listed = (provinces[pk] for pk in province_counts if pk in provinces)
    return {
        # Most units first, as a reader scans for the big ones; the code breaks ties.
        "province": sorted(
            (Facet("province", p.code, local_name(p.short_name_zh, p.short_name_en), province_counts[p.pk]) for p in listed),
            key=lambda f: (-f.count, f.value),
        ),
        "batch_year": [
            Facet("batch_year", str(year), str(year), len(year_pks & found)) for year, found in sorted(index.listed_by_year.items())
        ],
        "poverty": [
            Facet("poverty", "true", "poverty", len(poverty)),
            Facet("poverty", "false", "other", len(poverty_pks) - len(poverty)),
        ],
        "exit_year": [Facet("exit_year", str(year), str(year), n) for year, n in sorted(exit_counts.items())],
        "type": [
            Facet("type", value, str(type_labels.get(value, value)), n) for value, n in sorted(types.items(), key=lambda i: (-i[1], i[0]))
        ],
    }


@dataclass(frozen=True, slots=True)
class UnitRef:
    """The unit a place record is held under (the place itself, or an earlier code of it)."""

    pk: int
    key: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class BatchRef:
    year: int
    sequence: int


@dataclass(frozen=True, slots=True)
class PlacePoverty:
    """A poverty status of a place, as the list, the API and the exports show it."""

    pk: int
    unit_id: int
    unit: UnitRef
    listed_name: str
    region: str
    exit_year: int | None
    is_key_county_2012: bool | None
    is_contiguous_area_county: bool | None
    contiguous_area: str
    source_kind: str


@dataclass(frozen=True, slots=True)
class PlaceDesignation:
    """A designation of a place, as the list, the API and the exports show it."""

    id: int
    unit_id: int
    unit: UnitRef
    batch: BatchRef
    level: str
    kind: str
    counts: bool  # whether it is a batch entry the counts count (`DesignationQuerySet.counted`)
    source_kind: str

    @property
    def pk(self) -> int:
        return self.id

    @property
    def is_illustrative(self) -> bool:
        return self.source_kind == SourceKind.ILLUSTRATIVE


UNIT_REF = ("unit__key", "unit__name_zh", "unit__name_en")
R = TypeVar("R", PlacePoverty, PlaceDesignation)


# The place records' queries (compiled once: see `IdSetQuery`), in the order every door shows them.
_STATUS_ROWS = IdSetQuery(
    lambda units: (
        PovertyStatus.objects.filter(unit_id__in=units)
        .order_by("unit__key")
        .values_list(
            "pk",
            "unit_id",
            *UNIT_REF,
            "listed_name",
            "region",
            "exit_year",
            "is_key_county_2012",
            "is_contiguous_area_county",
            "contiguous_area",
            "source_kind",
        )
    )
)
_DESIGNATION_ROWS = IdSetQuery(
    lambda units: (
        Designation.objects.filter(unit_id__in=units)
        .annotate(counts=Exists(Designation.objects.counted().filter(pk=OuterRef("pk"))))
        .order_by("batch__year", "batch__sequence", "unit__key", "pk")
        .values_list("pk", "unit_id", *UNIT_REF, "batch__year", "batch__sequence", "batch__level", "kind", "counts", "source_kind")
    )
)


def place_records(unit_pks: Iterable[int]) -> dict[int, tuple[list[PlacePoverty], list[PlaceDesignation]]]:
    """The poverty statuses and designations of each unit's place (three queries, whatever the
    number of units): the records of the unit and of the units that became it (宣化区 130705
    carries 宣化县 130721's), read as plain rows, in the order every door shows them."""
    unit_pks = list(unit_pks)
    if not unit_pks:
        return {}
    known = places.known_as(unit_pks)
    codes = set().union(*known.values())
    units: dict[int, UnitRef] = {}

    def unit_ref(pk: int, key: str, name_zh: str, name_en: str) -> UnitRef:
        if pk not in units:
            units[pk] = UnitRef(pk, key, name_zh, name_en)
        return units[pk]

    status_rows = _STATUS_ROWS.rows(codes)
    statuses = [PlacePoverty(pk, unit, unit_ref(unit, key, zh, en), *rest) for pk, unit, key, zh, en, *rest in status_rows]
    designation_rows = _DESIGNATION_ROWS.rows(codes)
    batches: dict[tuple[int, int], BatchRef] = {}
    designations = [
        PlaceDesignation(pk, unit, unit_ref(unit, key, zh, en), batches.setdefault((year, seq), BatchRef(year, seq)), *rest)
        for pk, unit, key, zh, en, year, seq, *rest in designation_rows
    ]
    poverty_of, designations_of = _of_places(statuses, known), _of_places(designations, known)
    return {pk: (poverty_of[pk], designations_of[pk]) for pk in unit_pks}


def _of_places(records: list[R], known: dict[int, set[int]]) -> dict[int, list[R]]:
    """Each place's `records`: those held under any of its units (`known`), in their order."""
    held: dict[int, list[tuple[int, R]]] = defaultdict(list)
    for position, record in enumerate(records):
        held[record.unit_id].append((position, record))
    found: dict[int, list[R]] = {}
    for pk, units in known.items():
        pairs = held.get(pk, []) if len(units) == 1 else sorted((pair for unit in units for pair in held.get(unit, ())), key=_first)
        found[pk] = [record for _, record in pairs]
    return found


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


def counted(designations: list[PlaceDesignation]) -> list[PlaceDesignation]:
    """A place's batch entries: the designations `DesignationQuerySet.counted` counts (national, not
    withdrawn), as the query that read them marked each."""
    return [d for d in designations if d.counts]


def attach_place_records(units: Iterable[Unit]) -> list[Unit]:
    """Give each unit the records of its place, through code changes (`place_records`, three
    queries): `place_poverty`, `place_designations` and `place_entries` (the counted ones)."""
    units = list(units)
    records = place_records(unit.pk for unit in units)
    for unit in units:
        unit.place_poverty, unit.place_designations = records[unit.pk]
        unit.place_entries = counted(unit.place_designations)
    return units


@dataclass(frozen=True, slots=True)
class ListedUnit:
    """A unit as a row of the county list shows it, with the records of its place."""

    pk: int
    key: str
    name_zh: str
    name_en: str
    unit_type: str
    province_id: int
    is_in_use: bool
    place_poverty: list[PlacePoverty]
    place_entries: list[PlaceDesignation]  # the counted designations (withdrawn ones left out)


_LISTED_ROWS = IdSetQuery(
    lambda units: (
        Unit.objects.filter(pk__in=units).order_by().values_list("pk", "key", "name_zh", "name_en", "unit_type", "province_id", "last_year")
    )
)


def listed_units(pks: list[int]) -> list[ListedUnit]:
    """The units of a page of the county list, in the page's order, as plain rows with their
    place records (four queries: the units, then `place_records`)."""
    units = {row[0]: row for row in _LISTED_ROWS.rows(pks)}
    records = place_records(pks)
    listed = []
    for pk in pks:
        _, key, name_zh, name_en, unit_type, province, last_year = units[pk]
        poverty, designations = records[pk]
        listed.append(
            ListedUnit(pk, key, name_zh, name_en, unit_type, province, code_in_use(None, last_year), poverty, counted(designations))
        )
    return listed


# The county list's export shape: one set of columns for the page's CSV/XLSX downloads and the
# API's CSV (`/api/v1/counties/?format=csv`).
COUNTY_COLUMNS = [
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
    "poverty_listed_as",
    "exit_year",
    "designations",
    "includes_illustrative",
]


def county_row(unit: Unit) -> dict[str, Any]:
    """One unit as a row of the county list's export (after `attach_place_records`)."""
    entries = unit.place_entries
    return {
        "code": unit.key,
        "name_zh": unit.name_zh,
        "name_pinyin": unit.name_pinyin,
        "name_en": unit.name_en,
        "type": unit.unit_type,
        "province_code": unit.province.code,
        "province": unit.province.name_zh,
        "prefecture": unit.prefecture.name_zh if unit.prefecture else "",
        "in_use": unit.is_in_use,
        "current_code": unit.current.key if unit.current else "",
        "poverty_county": bool(unit.place_poverty),
        "poverty_listed_as": "; ".join(s.unit.key for s in unit.place_poverty),
        "exit_year": "; ".join(str(s.exit_year) for s in unit.place_poverty if s.exit_year),
        # Year, the code designated (the place's earlier code where it differs) and the source kind.
        "designations": "; ".join(f"{d.batch.year}:{d.unit.key}:{d.source_kind}" for d in entries),
        "includes_illustrative": any(d.is_illustrative for d in entries),
    }


def export_rows(units: Iterable[Unit]) -> tuple[list[str], list[list[Any]]]:
    """The filtered unit list as a table (header and rows), for the page's CSV and XLSX downloads."""
    return COUNTY_COLUMNS, [[row[c] for c in COUNTY_COLUMNS] for row in map(county_row, attach_place_records(units))]


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

    def path_from(self, key: str) -> list[UnitSuccession]:
        """The code changes that led from an earlier code of this place to the unit, in order
        (130721 宣化县 → 130705 宣化区, 2016); empty when `key` is not an earlier code of it."""
        primary = {s.predecessor_id: s for s in self.successions if s.is_primary and s.successor_id}
        start = next((u for u in self.lineage if u.key == key and u.pk != self.unit.pk), None)
        if start is None:
            return []
        walk = {s.predecessor_id: (s.successor_id, s.year) for s in primary.values() if s.successor_id is not None}
        chain = places.PlaceResolver(walk).chain(start.pk)
        return [primary[pk] for pk in chain[:-1]] if chain[-1] == self.unit.pk else []


def place(unit: Unit) -> Place:
    """The unit and the units that became it (its earlier codes, units merged into it), with
    their records, the designations' assessments and lifecycle records among them (8 queries)."""
    lineage_ids = sorted(places.known_as([unit.pk])[unit.pk])
    lineage = sorted(
        Unit.objects.filter(pk__in=lineage_ids).select_related("province", "prefecture"),
        key=lambda u: (u.first_year or 0, u.key),
    )
    successions = list(
        UnitSuccession.objects.filter(predecessor__in=lineage_ids).select_related("predecessor", "successor").order_by("year", "pk")
    )
    designations = list(
        Designation.objects.filter(unit__in=lineage_ids)
        .select_related("batch__province", "unit")
        .prefetch_related("assessments", "lifecycle")  # its path, in order (each model's ordering)
        .order_by("batch__year", "batch__sequence", "pk")
    )
    funding = list(FundingAllocation.objects.filter(unit__in=lineage_ids).select_related("unit").order_by("fiscal_year", "level", "pk"))
    poverty = list(PovertyStatus.objects.filter(unit__in=lineage_ids).select_related("unit"))
    return Place(unit, lineage, successions, designations, funding, poverty)
