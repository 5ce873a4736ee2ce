"""Coverage statistics, as defined in the design brief ("Coverage statistics: definitions").

Every door (pages, API, exports, `manage.py coverage_report`) reads its numbers from here, so a
number is the same wherever it is shown. Each statistic runs a fixed number of aggregate queries,
whatever the number of rows, and is cached under the current data token (`DataVersion`), which
changes with every edit, so a cached number is never stale.

Counting rules:

* A *batch entry* is a designation that has not been withdrawn.
* *Distinct demonstration counties* are counted by the unit each designated unit has become
  (`Unit.current`), so a county designated under its old code and again under its new one is one
  county.
* A poverty county is *covered* when some designation is for the same place: its own unit, a unit
  it became, or a unit that became it (`UnitLineage`). Two units that merged later are not the
  same place before the merger, so covering one does not cover the other.
* *As of* a year: designations in batches of that year or earlier; units in use at the end of
  that year; funding of fiscal years up to that year.
* Percentages are rounded half up to one decimal. Whether a batch met its rule is decided on the
  exact ratio.
* A poverty county *designated before it exited* had a designation in a batch of its exit year
  or earlier (batches are announced mid-year; exits at the year's end).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum

from .models import (
    Batch,
    Designation,
    DesignationStatus,
    FundingAllocation,
    PovertyStatus,
    Province,
    SourceKind,
    Unit,
)
from .services import data_change_pending, data_version

CACHE_SECONDS = 24 * 60 * 60
FIRST_YEAR = 2014
ILLUSTRATIVE = Q(source_kind=SourceKind.ILLUSTRATIVE)

T = TypeVar("T")


def cached(function: Callable[..., T]) -> Callable[..., T]:
    """Cache a statistic under the data token and its arguments; `.uncached` bypasses the cache."""

    @functools.wraps(function)
    def wrapper(*args: Any) -> T:
        if data_change_pending():
            return function(*args)  # inside a write that is not committed yet: never cached
        key = f"statistics:{data_version()}:{function.__name__}:{':'.join(map(str, args))}"
        value = cache.get(key)
        if value is None:
            value = function(*args)
            cache.set(key, value, CACHE_SECONDS)
        return value

    wrapper.uncached = function  # type: ignore[attr-defined]
    return wrapper


def yuan(value: Decimal | int | None) -> Decimal:
    """An amount in yuan with two decimals (SQLite's SUM drops them)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))


def percentage(part: int, whole: int) -> Decimal | None:
    """part / whole × 100 to one decimal, rounding halves up (737/832 → 88.6)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def counted_designations(as_of: int | None = None) -> QuerySet[Designation]:
    entries = Designation.objects.counted()
    if as_of is not None:
        entries = entries.filter(batch__year__lte=as_of)
    return entries


def poverty_place_filter(designations: QuerySet[Designation]) -> Q:
    """A filter on PovertyStatus: the poverty county is the same place as one of `designations`."""
    # The designated unit is the poverty unit or a unit it became (lineage depth >= 0) ...
    later = designations.filter(unit__lineage_ancestors__ancestor=OuterRef("unit"))
    # ... or a unit that became the poverty unit.
    earlier = designations.filter(unit__lineage_descendants__descendant=OuterRef("unit"))
    return Q(Exists(later)) | Q(Exists(earlier))


def is_poverty_designation() -> Q:
    """A filter on Designation: the designated unit is the same place as one of the poverty counties."""
    later = PovertyStatus.objects.filter(unit__lineage_descendants__descendant=OuterRef("unit"))
    earlier = PovertyStatus.objects.filter(unit__lineage_ancestors__ancestor=OuterRef("unit"))
    return Q(Exists(later)) | Q(Exists(earlier))


@cached
def latest_batch_year() -> int:
    """The default as-of year: the latest year with a batch."""
    return Batch.objects.aggregate(latest=Max("year"))["latest"] or FIRST_YEAR


def resolve_as_of(as_of: int | None) -> int:
    return latest_batch_year() if as_of is None else as_of


# -- coverage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    as_of: int
    batch_entries: int
    demonstration_counties: int
    new_entries: int
    repeat_designations: int
    poverty_counties_total: int
    poverty_counties_covered: int
    poverty_coverage_pct: Decimal | None
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def coverage(as_of: int | None = None) -> Coverage:
    """Coverage at the end of `as_of` (default: the latest year with a batch)."""
    return _coverage(resolve_as_of(as_of))


@cached
def _coverage(as_of: int) -> Coverage:
    entries = counted_designations(as_of)
    totals = entries.aggregate(
        batch_entries=Count("pk"),
        demonstration_counties=Count("unit__current", distinct=True),
        new_entries=Count("pk", filter=Q(batch__year=as_of)),
        illustrative=Count("pk", filter=ILLUSTRATIVE),
    )
    poverty = PovertyStatus.objects.aggregate(total=Count("pk"), covered=Count("pk", filter=poverty_place_filter(entries)))
    return Coverage(
        as_of=as_of,
        batch_entries=totals["batch_entries"],
        demonstration_counties=totals["demonstration_counties"],
        new_entries=totals["new_entries"],
        repeat_designations=totals["batch_entries"] - totals["demonstration_counties"],
        poverty_counties_total=poverty["total"],
        poverty_counties_covered=poverty["covered"],
        poverty_coverage_pct=percentage(poverty["covered"], poverty["total"]),
        includes_illustrative=totals["illustrative"] > 0,
    )


@cached
def coverage_series() -> list[Coverage]:
    """Coverage at the end of every year from 2014 to the latest batch year (two queries a year)."""
    return [_coverage(year) for year in range(FIRST_YEAR, latest_batch_year() + 1)]


# -- batches ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchComposition:
    year: int
    sequence: int
    title_zh: str
    title_en: str
    published_size: int | None
    size: int
    poverty_counties: int
    poverty_share_pct: Decimal | None
    min_poverty_share_pct: Decimal | None
    meets_rule: bool | None
    old_revolutionary_base_counties: int
    provinces: int
    central_funds_total_yuan: Decimal | None
    central_funds_per_county_yuan: Decimal | None
    central_funds_allocated_yuan: Decimal
    roster_complete: bool
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@cached
def batch_composition() -> list[BatchComposition]:
    """Per batch: entries, poverty counties among them, share, the rule and whether it was met,
    old revolutionary base counties where recorded, provinces reached and central funds.

    Central funds are the batch's published figures; per county, the published amount or else the
    published total over the published size. `central_funds_allocated_yuan` adds up the central
    allocations recorded against the batch's designations.
    """
    counted = ~Q(designations__status=DesignationStatus.WITHDRAWN)
    rows = (
        Batch.objects.order_by("year", "sequence")
        .annotate(
            size=Count("designations", filter=counted),
            illustrative=Count("designations", filter=counted & Q(designations__source_kind=SourceKind.ILLUSTRATIVE)),
            old_base=Count("designations", filter=counted & Q(designations__is_old_revolutionary_base=True)),
            provinces=Count("designations__unit__province", filter=counted, distinct=True),
        )
        .values(
            "pk",
            "year",
            "sequence",
            "title_zh",
            "title_en",
            "planned_size",
            "size",
            "illustrative",
            "old_base",
            "provinces",
            "min_poverty_share_pct",
            "central_funds_total",
            "central_funds_per_county",
            "roster_complete",
        )
    )
    poverty = dict(
        counted_designations().filter(is_poverty_designation()).values("batch").annotate(n=Count("pk")).values_list("batch", "n")
    )
    allocated = dict(
        FundingAllocation.objects.filter(level="central", designation__isnull=False)
        .exclude(designation__status=DesignationStatus.WITHDRAWN)
        .values("designation__batch")
        .annotate(total=Sum("amount"))
        .values_list("designation__batch", "total")
    )
    result = []
    for row in rows:
        size, poor, rule = row["size"], poverty.get(row["pk"], 0), row["min_poverty_share_pct"]
        total, per_county = row["central_funds_total"], row["central_funds_per_county"]
        if per_county is None and total is not None and row["planned_size"]:
            per_county = (total / row["planned_size"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        result.append(
            BatchComposition(
                year=row["year"],
                sequence=row["sequence"],
                title_zh=row["title_zh"],
                title_en=row["title_en"],
                published_size=row["planned_size"],
                size=size,
                poverty_counties=poor,
                poverty_share_pct=percentage(poor, size),
                min_poverty_share_pct=rule,
                # The exact ratio, not the rounded share: 49.96% does not meet a 50% rule.
                meets_rule=None if rule is None or not size else poor * 100 >= rule * size,
                old_revolutionary_base_counties=row["old_base"],
                provinces=row["provinces"],
                central_funds_total_yuan=total,
                central_funds_per_county_yuan=per_county,
                central_funds_allocated_yuan=yuan(allocated.get(row["pk"])),
                roster_complete=row["roster_complete"],
                includes_illustrative=row["illustrative"] > 0,
            )
        )
    return result


# -- provinces ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvinceCoverage:
    code: str
    name_zh: str
    name_en: str
    county_level_units: int
    poverty_counties: int
    batch_entries: int
    demonstration_counties: int
    poverty_counties_covered: int
    poverty_coverage_pct: Decimal | None
    funds_yuan: Decimal
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def province_table(as_of: int | None = None) -> list[ProvinceCoverage]:
    return _province_table(resolve_as_of(as_of))


@cached
def _province_table(as_of: int) -> list[ProvinceCoverage]:
    """Per province at the end of `as_of`; six queries whatever the number of rows."""

    def by_province(queryset: QuerySet, field_name: str, **aggregates: Any) -> dict[int, dict[str, Any]]:
        return {row[field_name]: row for row in queryset.values(field_name).annotate(**aggregates).order_by()}

    units = by_province(Unit.objects.in_use_at(as_of), "province", n=Count("pk"))
    poverty = by_province(PovertyStatus.objects.all(), "unit__province", n=Count("pk"))
    entries = counted_designations(as_of)
    designated = by_province(
        entries,
        "unit__province",
        entries=Count("pk"),
        distinct=Count("unit__current", distinct=True),
        illustrative=Count("pk", filter=ILLUSTRATIVE),
    )
    covered = by_province(PovertyStatus.objects.filter(poverty_place_filter(entries)), "unit__province", n=Count("pk"))
    funds = by_province(
        FundingAllocation.objects.filter(fiscal_year__lte=as_of),
        "unit__province",
        total=Sum("amount"),
        illustrative=Count("pk", filter=ILLUSTRATIVE),
    )
    result = []
    for province in Province.objects.order_by("code"):
        pk = province.pk
        poor = poverty.get(pk, {}).get("n", 0)
        cov = covered.get(pk, {}).get("n", 0)
        result.append(
            ProvinceCoverage(
                code=province.code,
                name_zh=province.name_zh,
                name_en=province.name_en,
                county_level_units=units.get(pk, {}).get("n", 0),
                poverty_counties=poor,
                batch_entries=designated.get(pk, {}).get("entries", 0),
                demonstration_counties=designated.get(pk, {}).get("distinct", 0),
                poverty_counties_covered=cov,
                poverty_coverage_pct=percentage(cov, poor),
                funds_yuan=yuan(funds.get(pk, {}).get("total")),
                includes_illustrative=bool(designated.get(pk, {}).get("illustrative") or funds.get(pk, {}).get("illustrative")),
            )
        )
    return result


# -- funding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundingTotal:
    key: str
    total_yuan: Decimal
    allocations: int
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FundingTotals:
    total_yuan: Decimal
    by_year: list[FundingTotal] = field(default_factory=list)
    by_province: list[FundingTotal] = field(default_factory=list)
    by_level: list[FundingTotal] = field(default_factory=list)
    by_source_kind: list[FundingTotal] = field(default_factory=list)
    includes_illustrative: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@cached
def funding_totals() -> FundingTotals:
    """All funding allocations, in yuan, by fiscal year, province (code), level and source kind."""

    def grouped(field_name: str) -> list[FundingTotal]:
        rows = (
            FundingAllocation.objects.values(field_name)
            .annotate(total=Sum("amount"), n=Count("pk"), illustrative=Count("pk", filter=ILLUSTRATIVE))
            .order_by(field_name)
        )
        return [FundingTotal(str(r[field_name]), yuan(r["total"]), r["n"], r["illustrative"] > 0) for r in rows]

    by_year = grouped("fiscal_year")
    return FundingTotals(
        total_yuan=yuan(sum(t.total_yuan for t in by_year)),
        by_year=by_year,
        by_province=grouped("unit__province__code"),
        by_level=grouped("level"),
        by_source_kind=grouped("source_kind"),
        includes_illustrative=any(t.includes_illustrative for t in by_year),
    )


# -- exits --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExitYear:
    exit_year: int | None
    poverty_counties: int
    designated_before_exit: int
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@cached
def exits() -> list[ExitYear]:
    """Poverty counties by exit year, and how many had been designated by their exit year."""
    by_exit = counted_designations().filter(batch__year__lte=OuterRef("exit_year"))
    illustrative_by_exit = by_exit.filter(ILLUSTRATIVE)
    rows = (
        PovertyStatus.objects.values("exit_year")
        .annotate(
            n=Count("pk"),
            designated=Count("pk", filter=poverty_place_filter(by_exit)),
            illustrative=Count("pk", filter=poverty_place_filter(illustrative_by_exit)),
        )
        .order_by("exit_year")
    )
    return [ExitYear(r["exit_year"], r["n"], r["designated"], r["illustrative"] > 0) for r in rows]
