"""Coverage at a year-end: batch entries, designated units, demonstration counties (places) and the
poverty counties covered, for one year or every year."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from counties.models import FIRST_PROGRAMME_YEAR
from counties.reads.numbers import percentage
from counties.reads.statistics.batches import batch_composition
from counties.reads.statistics.cache import cached
from counties.reads.statistics.rows import Programme, latest_batch_year, resolve_as_of


@dataclass(frozen=True)
class Coverage:
    as_of: int
    batch_entries: int
    designated_units: int
    demonstration_counties: int
    new_entries: int
    # The published size of the year's batches (None: not recorded, or no batch that year), and
    # whether the year's batches are known only in part: then `new_entries` is what is recorded
    # so far, and the pages say "N recorded of M" (or "of not recorded"), never a bare 0.
    new_entries_published: int | None
    new_entries_known_in_part: bool
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
    year_batches = [b for b in batch_composition() if b.year == as_of]
    sizes = [b.published_size for b in year_batches]
    places = programme.places(as_of)
    covered = len(programme.covered(as_of))
    total = len(programme.poverty)
    return Coverage(
        as_of=as_of,
        batch_entries=len(until),
        designated_units=len({e.unit for e in until}),
        demonstration_counties=len(places),
        new_entries=sum(1 for e in until if e.year == as_of),
        new_entries_published=None if not sizes or None in sizes else sum(s for s in sizes if s is not None),
        new_entries_known_in_part=any(b.known_in_part for b in year_batches),
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
    return [_coverage(year) for year in range(FIRST_PROGRAMME_YEAR, latest_batch_year() + 1)]


def coverage_series_until(as_of: int | None = None) -> list[Coverage]:
    """The series up to the end of `as_of` (every year when None), as the statistics page and its
    CSV show it for the year chosen."""
    return [c for c in coverage_series() if as_of is None or c.as_of <= as_of]
