"""The rows every statistic reads: the counted designations and the listed poverty counties with the
place rule (`Programme`, three queries, loaded once per data token), and the default as-of year.

Which designations count is `DesignationQuerySet.counted`'s rule, not this module's: national ones
only, not withdrawn by the year-end asked for. The rows are loaded once for every year, so each
carries the year of its withdrawal and `counts_at_end_of` (the same rule, for loaded rows) picks
those of a year."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Q, QuerySet

from counties.models import (
    FIRST_PROGRAMME_YEAR,
    Batch,
    Designation,
    PovertyStatus,
    ProgrammeLevel,
    SourceKind,
    Unit,
    UnitSuccession,
    UnitType,
    code_in_use,
    counts_at_end_of,
)
from counties.reads.places import PlaceResolver, place_resolver
from counties.reads.statistics.cache import cached, kept_per_token

ILLUSTRATIVE = Q(source_kind=SourceKind.ILLUSTRATIVE)

T = TypeVar("T")


def counted_designations(as_of: int | None = None) -> QuerySet[Designation]:
    """The batch entries every count counts at the end of `as_of` (today when None)."""
    return Designation.objects.counted(as_of)


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
    withdrawn_in: int | None  # the year of its withdrawal; None: not withdrawn


class PovertyCounty(NamedTuple):
    unit: int
    province: int
    exit_year: int | None


def entries() -> list[Entry]:
    """Every designation counted at some year-end: the national ones, with the year of their
    withdrawal if any (one query)."""
    rows = Designation.objects.with_withdrawal_year().values_list(  # type: ignore[misc]  # an annotation the stubs cannot see
        "pk", "unit_id", "batch_id", "batch__year", "unit__province_id", "source_kind", "is_old_revolutionary_base", "withdrawn_in"
    )
    return [
        Entry(pk, unit, batch, year, province, kind == SourceKind.ILLUSTRATIVE, old_base is True, withdrawn_in)
        for pk, unit, batch, year, province, kind, old_base, withdrawn_in in rows
    ]


def poverty_counties() -> list[PovertyCounty]:
    """The listed poverty counties (one query)."""
    return [PovertyCounty._make(row) for row in PovertyStatus.objects.values_list("unit_id", "unit__province_id", "exit_year")]


# The units the registry counts that the official count of county-level divisions (民政部) leaves
# out: those with no county-level code (the Qinghai 行委: 大柴旦 is counted in Qinghai's units, so 45
# where the official count says 44) and a city without districts a county became (儋州市 460400).
OUTSIDE_OFFICIAL_COUNT = Q(code__isnull=True) | Q(unit_type=UnitType.PREFECTURE_LEVEL_CITY)


@dataclass
class Programme:
    """The designations, poverty counties and place rule, loaded once (three queries), from which
    every count below is worked out; one definition of each count, applied to these rows."""

    loaded: list[Entry]  # counted at some year-end: withdrawn ones until their withdrawal
    poverty: list[PovertyCounty]
    resolver: PlaceResolver[int]
    # What one year's statistics share (the entries up to it, their places, the poverty counties
    # covered), worked out once per year: coverage, provinces, exits and the list index ask again.
    _by_year: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls) -> Programme:
        return cls(entries(), poverty_counties(), place_resolver())

    @staticmethod
    @kept_per_token
    def current() -> Programme:
        """The rows under the current data token, loaded once per process and token: after an
        edit, the statistics a page asks for (coverage for every year, batches, provinces, the
        list index) are worked out from one load instead of one each. Inside a write that is
        not committed yet, always loaded afresh (as `cached` does)."""
        return Programme.load()

    def _once(self, what: str, as_of: int, work: Callable[[], T]) -> T:
        key = (what, as_of)
        if key not in self._by_year:
            self._by_year[key] = work()
        return self._by_year[key]

    @functools.cached_property
    def entries(self) -> list[Entry]:
        """The entries counted today: not withdrawn."""
        return [e for e in self.loaded if e.withdrawn_in is None]

    def entries_until(self, as_of: int) -> list[Entry]:
        """The entries counted at the end of `as_of` (`counts_at_end_of`)."""
        return self._once("entries", as_of, lambda: [e for e in self.loaded if counts_at_end_of(as_of, e.year, e.withdrawn_in)])

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
        return {**provinces, **{e.unit: e.province for e in self.loaded}}

    @functools.cached_property
    def unit_spans(self) -> list[tuple[int, int | None, int | None, bool, int]]:
        """(province, first year, last year, outside the official count, how many units): every
        unit's years in use, grouped (one query, a few hundred rows), from which `units_in_use`
        counts any year without reading the units again (the statistics page asks for every year)."""
        outside = ExpressionWrapper(OUTSIDE_OFFICIAL_COUNT, output_field=BooleanField())
        rows = Unit.objects.annotate(outside=outside).values_list("province_id", "first_year", "last_year", "outside")
        return list(rows.annotate(n=Count("pk")).order_by())

    def units_in_use(self, as_of: int, *, outside_official_count: bool = False) -> Counter[int]:
        """Units in use at the end of `as_of`, per province (with `outside_official_count`, only
        those the official count of county-level divisions leaves out: `OUTSIDE_OFFICIAL_COUNT`)."""
        found: Counter[int] = Counter()
        for province, first, last, outside, n in self.unit_spans:
            if code_in_use(first, last, as_of) and (outside or not outside_official_count):
                found[province] += n
        return found

    def is_poverty_entry(self, entry: Entry, poverty_places: dict[int, set[int]]) -> bool:
        """An entry whose place at the end of its batch year is a poverty county's place then."""
        if entry.year not in poverty_places:
            poverty_places[entry.year] = self.poverty_places(entry.year)
        return self.resolver.place(entry.unit, entry.year) in poverty_places[entry.year]


@cached
def latest_batch_year() -> int:
    """The default as-of year: the latest year with a batch."""
    return Batch.objects.filter(level=ProgrammeLevel.NATIONAL).aggregate(latest=Max("year"))["latest"] or FIRST_PROGRAMME_YEAR


def resolve_as_of(as_of: int | None) -> int:
    return latest_batch_year() if as_of is None else as_of
