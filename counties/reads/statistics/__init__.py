"""Coverage statistics, as defined in the design brief ("Coverage statistics: definitions").

Every door (home page, county list, province and batch pages, API, exports, `manage.py
coverage_report`) reads its numbers from here, so the same question gets the same number
wherever it is asked. Each statistic runs a fixed number of queries, whatever the number of rows,
and is cached under the current data token (`DataVersion`), which changes with every edit, so a
cached number is never stale.

When they are worked out: the writer refreshes them once per transaction, right after its commit
(`counties.writes.derived.refresh`, called by `services`), under the new token in the default cache, so
the first read after an edit reads results instead of working them out (their cost grows with the
data). A read that finds nothing (an evicted key, a cache of one process) works it out itself:
correctness never depends on the refresh having run.

Definitions, for an as-of year Y (withdrawn designations never count):

* `batch_entries(Y)`: designations in batches of year Y or earlier.
* `designated_units(Y)`: distinct units (codes) among them, retired codes included.
* `demonstration_counties(Y)`: distinct *places as of the end of Y* among them. A place is the unit
  in use at the end of Y that the designated unit had become by then, following renames, upgrades
  and mergers of year Y or earlier, not later ones (`counties.reads.places`). 宣化县 (2015) and 宣化区
  (2018) are one place at end-2018; 长岛县 (2017) and 蓬莱市 (2018) are two places at end-2018 and
  one from end-2020, when they merged.
* `poverty_counties_total`: the poverty counties listed (832).
* `poverty_counties_covered(Y)`: poverty counties whose place as of the end of Y is the place of a
  designation of year Y or earlier: the same place rule, so a poverty county that merged is
  covered once its place is.
* `poverty_coverage_pct(Y)`: covered / total × 100, rounded half up to one decimal (88.6).
* A batch's poverty counties: its entries whose place at the end of the batch year is a poverty
  county's place then. Whether a batch met its rule is decided on the exact ratio.
* Per province: units in use at the end of Y, poverty counties, batch entries by the designated
  unit's province, demonstration counties by the place's province, covered poverty counties,
  funding of fiscal years up to Y.
* `poverty_demonstration_counties(Y)`, per province: its demonstration counties (places as of the
  end of Y) that are, or hold, a poverty county's place then, by the place's province. A count of
  places, so never more than the province's demonstration counties: 茫崖市, the place two poverty
  counties (茫崖, 冷湖) merged into in 2018, is one, where `poverty_counties_covered` counts the
  poverty counties themselves and counts two (Qinghai: 41 places, 42 poverty counties covered).
* A poverty county *designated before it exited* was covered at the end of its exit year
  (batches are announced mid-year; exits at the year's end).
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple, Protocol, TypeVar, cast

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet, Sum

from counties.models import (
    FIRST_PROGRAMME_YEAR,
    Batch,
    Designation,
    DesignationStatus,
    FundingAllocation,
    PovertyStatus,
    Province,
    SourceKind,
    Unit,
    UnitSuccession,
    code_in_use,
    local_name,
)
from counties.reads.places import PlaceResolver, place_resolver
from registry.caching.keys import statistic_key
from registry.caching.token import current_state, data_change_pending

CACHE_SECONDS = 24 * 60 * 60
FIRST_YEAR = FIRST_PROGRAMME_YEAR
ILLUSTRATIVE = Q(source_kind=SourceKind.ILLUSTRATIVE)

T = TypeVar("T")


class Cached(Protocol[T]):
    uncached: Callable[..., T]

    def __call__(self, *args: Any) -> T: ...


def cached(function: Callable[..., T]) -> Cached[T]:
    """Cache a statistic under the code, the data token and its arguments; `.uncached` bypasses the cache."""

    @functools.wraps(function)
    def wrapper(*args: Any) -> T:
        if data_change_pending():
            return function(*args)  # inside a write that is not committed yet: never cached
        key = statistic_key(current_state().token, function.__name__, args)
        value = cache.get(key)
        if value is None:
            value = function(*args)
            cache.set(key, value, CACHE_SECONDS)
        return value

    statistic = cast(Cached[T], wrapper)  # given its `uncached` here
    statistic.uncached = function
    EVERY_CACHED.append(statistic)
    return statistic


# Every cached statistic, here and in `counties.reads.statistics.targets`: a test holds `counties.writes.derived.refresh`
# to all of them, so one added later cannot be left to the first reader after an edit.
EVERY_CACHED: list[Callable[..., Any]] = []


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


# -- the rows every statistic reads ---------------------------------------------------------------


class Entry(NamedTuple):
    """One batch entry (a counted designation), as the statistics need it. Named tuples, not
    dataclasses: a statistic builds one per designation, and a tuple is several times cheaper."""

    pk: int
    unit: int
    batch: int
    year: int
    province: int
    illustrative: bool
    old_base: bool


class PovertyCounty(NamedTuple):
    unit: int
    province: int
    exit_year: int | None


def entries() -> list[Entry]:
    """Every counted designation (one query)."""
    rows = counted_designations().values_list(
        "pk", "unit_id", "batch_id", "batch__year", "unit__province_id", "source_kind", "is_old_revolutionary_base"
    )
    return [
        Entry(pk, unit, batch, year, province, kind == SourceKind.ILLUSTRATIVE, old_base is True)
        for pk, unit, batch, year, province, kind, old_base in rows
    ]


def poverty_counties() -> list[PovertyCounty]:
    """The listed poverty counties (one query)."""
    return [PovertyCounty._make(row) for row in PovertyStatus.objects.values_list("unit_id", "unit__province_id", "exit_year")]


@dataclass
class Programme:
    """The designations, poverty counties and place rule, loaded once (three queries), from which
    every count below is worked out; one definition of each count, applied to these rows."""

    entries: list[Entry]
    poverty: list[PovertyCounty]
    resolver: PlaceResolver
    # What one year's statistics share (the entries up to it, their places, the poverty counties
    # covered), worked out once per year: coverage, provinces, exits and the list index ask again.
    _by_year: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls) -> Programme:
        return cls(entries(), poverty_counties(), place_resolver())

    @classmethod
    def current(cls) -> Programme:
        """The rows under the current data token, loaded once per process and token: after an
        edit, the statistics a page asks for (coverage for every year, batches, provinces, the
        list index) are worked out from one load instead of one each. Inside a write that is
        not committed yet, always loaded afresh (as `cached` does)."""
        if data_change_pending():
            return cls.load()
        token = current_state().token
        programme = _LOADED.get(token)
        if programme is None:
            programme = cls.load()
            _LOADED.clear()  # only the current token's rows are kept
            _LOADED[token] = programme
        return programme

    def _once(self, what: str, as_of: int, work: Callable[[], T]) -> T:
        key = (what, as_of)
        if key not in self._by_year:
            self._by_year[key] = work()
        return self._by_year[key]

    def entries_until(self, as_of: int) -> list[Entry]:
        return self._once("entries", as_of, lambda: [e for e in self.entries if e.year <= as_of])

    def places(self, as_of: int, among: Iterable[Entry] | None = None) -> frozenset[int]:
        """Distinct places, as of the end of `as_of`, of the entries up to that year (or `among`)."""
        if among is not None:
            return frozenset(self.resolver.places((e.unit for e in among), as_of))
        return self._once("places", as_of, lambda: frozenset(self.resolver.places((e.unit for e in self.entries_until(as_of)), as_of)))

    def poverty_places(self, as_of: int) -> set[int]:
        return self.resolver.places((p.unit for p in self.poverty), as_of)

    def covered(self, as_of: int) -> list[PovertyCounty]:
        """Poverty counties whose place as of `as_of` holds an entry of `as_of` or earlier."""

        def work() -> list[PovertyCounty]:
            places = self.places(as_of)
            return [p for p in self.poverty if self.resolver.place(p.unit, as_of) in places]

        return self._once("covered", as_of, work)

    @functools.cached_property
    def province_of_place(self) -> dict[int, int]:
        """The province of every unit an entry can have become: the designated units (from the
        entries) and the successors in the place rule (one query, a few thousand rows at most,
        instead of every unit's)."""
        successors = UnitSuccession.objects.filter(is_primary=True, successor__isnull=False).values("successor_id")
        provinces = dict(Unit.objects.filter(pk__in=successors).values_list("pk", "province_id"))
        return {**provinces, **{e.unit: e.province for e in self.entries}}

    @functools.cached_property
    def unit_spans(self) -> list[tuple[int, int | None, int | None, int]]:
        """(province, first year, last year, how many units): every unit's years in use, grouped
        (one query, a few hundred rows), from which `units_in_use` counts any year without
        reading the units again (the statistics page asks for every year)."""
        return list(Unit.objects.values_list("province_id", "first_year", "last_year").annotate(n=Count("pk")).order_by())

    def units_in_use(self, as_of: int) -> Counter[int]:
        """Units in use at the end of `as_of`, per province."""
        found: Counter[int] = Counter()
        for province, first, last, n in self.unit_spans:
            if code_in_use(first, last, as_of):
                found[province] += n
        return found

    def is_poverty_entry(self, entry: Entry, poverty_places: dict[int, set[int]]) -> bool:
        """An entry whose place at the end of its batch year is a poverty county's place then."""
        if entry.year not in poverty_places:
            poverty_places[entry.year] = self.poverty_places(entry.year)
        return self.resolver.place(entry.unit, entry.year) in poverty_places[entry.year]


_LOADED: dict[str, Programme] = {}


def forget_loaded_rows() -> None:
    """Drop the rows `Programme.current` and `list_index` keep (for tests, which roll the data back
    under the same token; and for the benchmark, to read after an edit as another process does)."""
    _LOADED.clear()
    _INDEX.clear()


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
    designated_units: int
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


def _coverage_of(programme: Programme, as_of: int) -> Coverage:
    until = programme.entries_until(as_of)
    places = programme.places(as_of)
    covered = len(programme.covered(as_of))
    total = len(programme.poverty)
    return Coverage(
        as_of=as_of,
        batch_entries=len(until),
        designated_units=len({e.unit for e in until}),
        demonstration_counties=len(places),
        new_entries=sum(1 for e in until if e.year == as_of),
        repeat_designations=len(until) - len(places),
        poverty_counties_total=total,
        poverty_counties_covered=covered,
        poverty_coverage_pct=percentage(covered, total),
        includes_illustrative=any(e.illustrative for e in until),
    )


@cached
def _coverage(as_of: int) -> Coverage:
    return _coverage_of(Programme.current(), as_of)


@cached
def coverage_series() -> list[Coverage]:
    """Coverage at the end of every year from 2014 to the latest batch year (one load for all years;
    each year is cached on its own too, so `coverage(year)` then reads it)."""
    return [_coverage(year) for year in range(FIRST_YEAR, latest_batch_year() + 1)]


@dataclass(frozen=True)
class ListIndex:
    """What the county list, its facets and the API's filters need to apply the place rule, as
    of the latest batch year (the year the home page's headline figures describe).

    A few sets of unit ids, no container per unit: another process reads it from the shared
    cache once per data token, and unpickling thousands of small containers (with the garbage
    collector passes they set off) cost it ten times more than the same ids in a few sets."""

    as_of: int
    # The demonstration counties (designated places), and the units designated under their own
    # code (retired codes included), by province code: a list narrowed to a province sends the
    # database that province's few hundred ids, not every province's ten thousand (with 10x data
    # the set, not the rows, was most of a province's list query).
    places_by_province: dict[str, frozenset[int]]
    designated_by_province: dict[str, frozenset[int]]
    # batch year -> the places with an entry in it and the units with one under their own code
    # (the batch-year filter's units: kept as one set per year, not two, as nothing asks for either
    # alone, and a year's facet count then intersects with the stored set instead of a new union)
    listed_by_year: dict[int, frozenset[int]]
    poverty_units: frozenset[int]  # the poverty counties and every unit they became
    units_by_exit_year: dict[int | None, frozenset[int]]  # exit year -> poverty units of a county exiting then

    @functools.cached_property
    def places(self) -> frozenset[int]:
        return frozenset().union(*self.places_by_province.values())

    @functools.cached_property
    def designated_units(self) -> frozenset[int]:
        return frozenset().union(*self.designated_by_province.values())

    def places_in(self, province: str | None) -> frozenset[int]:
        """The demonstration counties of a province (by code), or of all with None."""
        return self.places if province is None else self.places_by_province.get(province, frozenset())

    def designated_in(self, province: str | None) -> frozenset[int]:
        """The units designated under their own code in a province (by code), or in all with None."""
        return self.designated_units if province is None else self.designated_by_province.get(province, frozenset())

    def __getstate__(self) -> dict[str, Any]:
        # Only the fields: the unions above are worked out again by each process that reads it.
        return {name: value for name, value in self.__dict__.items() if name not in ("places", "designated_units")}

    def in_years(self, years: Iterable[int]) -> frozenset[int]:
        """Places, or units under their own code, with an entry in one of `years`."""
        found = [self.listed_by_year[year] for year in set(years) if year in self.listed_by_year]
        return found[0] if len(found) == 1 else frozenset().union(*found)

    def exited_in(self, year: int) -> frozenset[int]:
        return self.units_by_exit_year.get(year, frozenset())

    def exit_year_counts(self, units: set[int]) -> Counter[int]:
        """How many of `units` are poverty units of a county that exited, per exit year."""
        return Counter({year: n for year, found in self.units_by_exit_year.items() if year and (n := len(units & found))})


def list_index() -> ListIndex:
    """The list index under the current data token, kept in the process as well as in the cache:
    a list page reads it several times (its scope, totals, facets, filters), and unpickling it
    from the cache each time cost more than the rest of a page with ten times the data."""
    if data_change_pending():
        return _list_index.uncached()
    token = current_state().token
    index = _INDEX.get(token)
    if index is None:
        index = _list_index()
        _INDEX.clear()  # only the current token's index is kept
        _INDEX[token] = index
    return index


_INDEX: dict[str, ListIndex] = {}


@cached
def _list_index() -> ListIndex:
    programme = Programme.current()
    as_of = latest_batch_year()
    listed_by_year: dict[int, set[int]] = defaultdict(set)
    for entry in programme.entries_until(as_of):
        listed_by_year[entry.year].update((programme.resolver.place(entry.unit, as_of), entry.unit))
    exits: dict[int | None, set[int]] = defaultdict(set)
    for county in programme.poverty:
        exits[county.exit_year].update(programme.resolver.chain(county.unit))
    code = dict(Province.objects.values_list("pk", "code"))
    places: dict[str, set[int]] = defaultdict(set)
    for place in programme.places(as_of):
        places[code[programme.province_of_place[place]]].add(place)
    designated: dict[str, set[int]] = defaultdict(set)
    for entry in programme.entries_until(as_of):
        designated[code[entry.province]].add(entry.unit)
    return ListIndex(
        as_of=as_of,
        places_by_province={province: frozenset(found) for province, found in places.items()},
        designated_by_province={province: frozenset(found) for province, found in designated.items()},
        listed_by_year={year: frozenset(found) for year, found in listed_by_year.items()},
        poverty_units=frozenset().union(*exits.values()),
        units_by_exit_year={year: frozenset(found) for year, found in exits.items()},
    )


# -- batches ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchComposition:
    year: int
    sequence: int
    title_zh: str
    title_en: str
    published_size: int | None
    size: int
    illustrative_entries: int
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
    poverty_entry_ids: frozenset[int] = frozenset()

    @property
    def is_partial(self) -> bool:
        """Known only in part: fewer entries than the published size, none of them illustrative and
        the roster not complete (2021: 29 of 148). Its shares describe the known part only, so the
        pages say "partial (29 of 148)" instead of a share."""
        return bool(not self.roster_complete and not self.includes_illustrative and self.published_size and self.size < self.published_size)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["poverty_entry_ids"]
        return data


@cached
def batch_composition() -> list[BatchComposition]:
    """Per batch: entries, poverty counties among them, share, the rule and whether it was met,
    old revolutionary base counties where recorded, provinces reached and central funds. The one
    definition of a batch's composition: the home page, batch pages, API and reports read it.

    Central funds are the batch's published figures; per county, the published amount or else the
    published total over the published size. `central_funds_allocated_yuan` adds up the central
    allocations recorded against the batch's designations.
    """
    programme = Programme.current()
    by_batch: dict[int, list[Entry]] = defaultdict(list)
    for entry in programme.entries:
        by_batch[entry.batch].append(entry)
    poverty_places: dict[int, set[int]] = {}
    allocated = dict(
        FundingAllocation.objects.filter(level="central", designation__isnull=False)
        .exclude(designation__status=DesignationStatus.WITHDRAWN)
        .values("designation__batch")
        .annotate(total=Sum("amount"))
        .values_list("designation__batch", "total")
    )
    result = []
    for batch in Batch.objects.order_by("year", "sequence"):
        rows = by_batch[batch.pk]
        poor = frozenset(e.pk for e in rows if programme.is_poverty_entry(e, poverty_places))
        size, rule = len(rows), batch.min_poverty_share_pct
        total, per_county = batch.central_funds_total, batch.central_funds_per_county
        if per_county is None and total is not None and batch.planned_size:
            per_county = (total / batch.planned_size).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        illustrative = sum(1 for e in rows if e.illustrative)
        result.append(
            BatchComposition(
                year=batch.year,
                sequence=batch.sequence,
                title_zh=batch.title_zh,
                title_en=batch.title_en,
                published_size=batch.planned_size,
                size=size,
                illustrative_entries=illustrative,
                poverty_counties=len(poor),
                poverty_share_pct=percentage(len(poor), size),
                min_poverty_share_pct=rule,
                # The exact ratio, not the rounded share: 49.96% does not meet a 50% rule.
                meets_rule=None if rule is None or not size else len(poor) * 100 >= rule * size,
                old_revolutionary_base_counties=sum(1 for e in rows if e.old_base),
                provinces=len({e.province for e in rows}),
                central_funds_total_yuan=total,
                central_funds_per_county_yuan=per_county,
                central_funds_allocated_yuan=yuan(allocated.get(batch.pk)),
                roster_complete=batch.roster_complete,
                includes_illustrative=illustrative > 0,
                poverty_entry_ids=poor,
            )
        )
    return result


# -- provinces ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvinceCoverage:
    code: str
    name_zh: str
    name_en: str
    short_name_zh: str
    short_name_en: str
    county_level_units: int
    poverty_counties: int
    batch_entries: int
    demonstration_counties: int
    poverty_demonstration_counties: int
    poverty_counties_covered: int
    poverty_coverage_pct: Decimal | None
    funds_yuan: Decimal
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def short_name(self) -> str:
        """新疆 on Chinese pages, Xinjiang on English ones (chart labels, narrow columns)."""
        return local_name(self.short_name_zh, self.short_name_en)


def province_table(as_of: int | None = None) -> list[ProvinceCoverage]:
    return _province_table(resolve_as_of(as_of))


@cached
def _province_table(as_of: int) -> list[ProvinceCoverage]:
    """Per province at the end of `as_of`; a fixed number of queries whatever the number of rows."""
    programme = Programme.current()
    until = programme.entries_until(as_of)
    places = programme.places(as_of)
    province_of = programme.province_of_place
    units = programme.units_in_use(as_of)
    poverty = Counter(p.province for p in programme.poverty)
    covered = Counter(p.province for p in programme.covered(as_of))
    batch_entries = Counter(e.province for e in until)
    demonstration = Counter(province_of[place] for place in places)
    # Places, not poverty counties: a part of `demonstration`, as a chart draws it.
    poverty_demonstration = Counter(province_of[place] for place in places & programme.poverty_places(as_of))
    illustrative = {e.province for e in until if e.illustrative}
    funds: dict[int, Mapping[str, Any]] = {
        row["unit__province"]: row
        for row in FundingAllocation.objects.filter(fiscal_year__lte=as_of)
        .values("unit__province")
        .annotate(total=Sum("amount"), illustrative=Count("pk", filter=ILLUSTRATIVE))
        .order_by()
    }
    result = []
    for province in Province.objects.order_by("code"):
        pk = province.pk
        result.append(
            ProvinceCoverage(
                code=province.code,
                name_zh=province.name_zh,
                name_en=province.name_en,
                short_name_zh=province.short_name_zh,
                short_name_en=province.short_name_en,
                county_level_units=units[pk],
                poverty_counties=poverty[pk],
                batch_entries=batch_entries[pk],
                demonstration_counties=demonstration[pk],
                poverty_demonstration_counties=poverty_demonstration[pk],
                poverty_counties_covered=covered[pk],
                poverty_coverage_pct=percentage(covered[pk], poverty[pk]),
                funds_yuan=yuan(funds.get(pk, {}).get("total")),
                includes_illustrative=pk in illustrative or bool(funds.get(pk, {}).get("illustrative")),
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
    """Poverty counties by exit year, and how many were covered at the end of their exit year."""
    programme = Programme.current()
    groups: dict[int | None, list[PovertyCounty]] = defaultdict(list)
    for county in programme.poverty:
        groups[county.exit_year].append(county)
    result = []
    for exit_year in sorted(groups, key=lambda y: (y is None, y or 0)):
        counties = groups[exit_year]
        if exit_year is None:
            result.append(ExitYear(None, len(counties), 0, False))
            continue
        until = programme.entries_until(exit_year)
        places = programme.places(exit_year)
        designated = [c for c in counties if programme.resolver.place(c.unit, exit_year) in places]
        illustrative_places = programme.places(exit_year, [e for e in until if e.illustrative])
        result.append(
            ExitYear(
                exit_year,
                len(counties),
                len(designated),
                any(programme.resolver.place(c.unit, exit_year) in illustrative_places for c in designated),
            )
        )
    return result
