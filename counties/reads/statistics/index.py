"""The list index: the place rule applied once, for the county list, its facets and the API's
filters (which units are demonstration counties, designated, listed in a batch year, poverty
counties, exited in a year)."""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from counties.models import Province
from counties.reads.statistics.cache import cached, kept_per_token
from counties.reads.statistics.rows import Programme, latest_batch_year

# How a place-rule filter of the county list (poverty county, batch year, exit year) counts: the
# county list's scopes (selectors.SCOPES) as a rule, one name each, for the page and the API alike.
# PLACES: the places as of the list's year-end (units in use then), a record under an earlier code
# counting for its place (the page's default scope, demonstration counties); UNITS: the units holding
# a record under their own code, retired codes included (designated units); CODES: every code of
# such a place, earlier and later (all units).
PLACES, UNITS, CODES = "places", "units", "codes"
COUNT_AS = (PLACES, UNITS, CODES)


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
    # (the batch-year filter's every code, and its facet's: a year's facet count then intersects
    # with the stored set instead of a new union; the places of a year are this set's places)
    listed_by_year: dict[int, frozenset[int]]
    poverty_units: frozenset[int]  # the poverty counties and every unit they became
    units_by_exit_year: dict[int | None, frozenset[int]]  # exit year -> poverty units of a county exiting then
    # The 832 as places (the unit each had become by the end of `as_of`: 茫崖市 holds 冷湖 and 茫崖,
    # so there is one fewer) and as the units they were listed under.
    poverty_places: frozenset[int]
    poverty_listed: frozenset[int]
    # batch year -> the units with an entry in it under their own code (retired codes included)
    units_by_year: dict[int, frozenset[int]]

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

    def poverty(self, count_as: str = PLACES) -> frozenset[int]:
        """The 832 as the list counts them `count_as` (COUNT_AS): their places as of `as_of`, the
        units they were listed under, or every code of them (earlier and later)."""
        return {PLACES: self.poverty_places, UNITS: self.poverty_listed}.get(count_as, self.poverty_units)

    def years(self, years: Iterable[int], count_as: str = PLACES) -> frozenset[int]:
        """Places with an entry in one of `years` (as of `as_of`: 1,016 for 2014-2018, the
        demonstration counties of those batches), units designated then under their own code, or
        both (`in_years`)."""
        if count_as == UNITS:
            return frozenset().union(*(self.units_by_year.get(year, frozenset()) for year in set(years)))
        found = self.in_years(years)
        return found & self.places if count_as == PLACES else found

    def exited(self, year: int, count_as: str = PLACES) -> frozenset[int]:
        """The poverty counties that exited in `year`, counted as `poverty` counts them."""
        return self.exited_in(year) & self.poverty(count_as)

    def exit_year_counts(self, units: set[int]) -> Counter[int]:
        """How many of `units` are poverty units of a county that exited, per exit year."""
        return Counter({year: n for year, found in self.units_by_exit_year.items() if year and (n := len(units & found))})


@kept_per_token
@cached
def list_index() -> ListIndex:
    """The list index under the current data token, kept in the process as well as in the cache:
    a list page reads it several times (its scope, totals, facets, filters), and unpickling it
    from the cache each time cost more than the rest of a page with ten times the data."""
    programme = Programme.current()
    as_of = latest_batch_year()
    listed_by_year: dict[int, set[int]] = defaultdict(set)
    units_by_year: dict[int, set[int]] = defaultdict(set)
    for entry in programme.entries_until(as_of):
        listed_by_year[entry.year].update((programme.resolver.place(entry.unit, as_of), entry.unit))
        units_by_year[entry.year].add(entry.unit)
    exits: dict[int | None, set[int]] = defaultdict(set)
    for county in programme.poverty:
        exits[county.exit_year].update(programme.resolver.chain(county.unit))
    poverty_places = frozenset(programme.resolver.place(county.unit, as_of) for county in programme.poverty)
    poverty_listed = frozenset(county.unit for county in programme.poverty)
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
        units_by_year={year: frozenset(found) for year, found in units_by_year.items()},
        poverty_units=frozenset().union(*exits.values()),
        units_by_exit_year={year: frozenset(found) for year, found in exits.items()},
        poverty_places=poverty_places,
        poverty_listed=poverty_listed,
    )
