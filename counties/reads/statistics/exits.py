"""Poverty exits: the poverty counties by exit year, and how many were designated before they exited."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from counties.reads.statistics.cache import cached
from counties.reads.statistics.rows import PovertyCounty, Programme


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


def exits_until(as_of: int | None = None) -> list[ExitYear]:
    """The exit years up to `as_of` (every year when None), with the counties whose exit year is not
    recorded, as the statistics page and its CSV show them for the year chosen."""
    return [e for e in exits() if as_of is None or e.exit_year is None or e.exit_year <= as_of]
