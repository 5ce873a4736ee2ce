"""The place resolver: "the place as of the end of Y", the one rule every count, filter, facet and
record uses (DESIGN.md, "Coverage statistics: definitions").

A *place as of the end of Y* is the unit in use at the end of Y that a unit had become by then,
following the primary code successions (renames, upgrades, mergers) of year Y or earlier and
none later. So 宣化县 (retired 2016) and 宣化区 are one place from end-2016; 长岛县 and 蓬莱市 are
two places until they merged in 2020 and one from end-2020. With no year, every succession is
followed: the place today.

The rule is applied in Python over the primary successions (a few hundred rows, one query),
because it depends on the year of each succession, which the lineage closure does not hold, and
because a merger into a unit that keeps its code (the successor existed before) cannot be read
from the units' first years. Every statistic therefore runs the same code for the same answer.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db.models import Q, QuerySet

from counties.models import Unit, UnitLineage, UnitSuccession
from counties.reads.sql import IdSetQuery

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class PlaceResolver(Generic[K]):
    """Primary successions as `unit -> (successor, year of the change)`: the one walk along a
    line of code changes. A unit is a pk for the stored registry, a code for a loader's rows
    before they are stored. A cycle (refused by `services.rebuild_lineage`) ends a walk where it
    would repeat a unit."""

    successor: dict[K, tuple[K, int]]
    _predecessors: dict[K, list[K]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for unit, (successor, _year) in self.successor.items():
            self._predecessors.setdefault(successor, []).append(unit)

    def place(self, unit: K, as_of: int | None = None) -> K:
        """The place `unit` had become by the end of `as_of` (None: today): the unit in use then,
        for a unit whose code was in use at some time up to `as_of`."""
        if unit not in self.successor:
            return unit  # most units never changed code (the statistics ask this by the hundred thousand)
        seen = {unit}
        while unit in self.successor:
            successor, year = self.successor[unit]
            if (as_of is not None and year > as_of) or successor in seen:
                break
            seen.add(successor)
            unit = successor
        return unit

    def chain(self, unit: K) -> list[K]:
        """`unit` and every unit it became, in order (the codes its records follow it to). A chain
        whose last unit still has a successor ended at a cycle."""
        found = [unit]
        while found[-1] in self.successor and self.successor[found[-1]][0] not in found:
            found.append(self.successor[found[-1]][0])
        return found

    def places(self, units: Iterable[K], as_of: int | None = None) -> set[K]:
        successor, place = self.successor, self.place
        return {place(unit, as_of) if unit in successor else unit for unit in units}

    def known_as(self, unit: K) -> set[K]:
        """`unit` and every unit that became it (its earlier codes, and units merged into it):
        the codes under which this place's records may be held."""
        found, todo = {unit}, [unit]
        while todo:
            for earlier in self._predecessors.get(todo.pop(), ()):
                if earlier not in found:
                    found.add(earlier)
                    todo.append(earlier)
        return found


def repeat_selections(resolver: PlaceResolver[K], entries: Iterable[tuple[Hashable, K, int]]) -> set[Hashable]:
    """The entries `(id, unit, batch year)` whose place, as of their batch year, already held an
    entry of an earlier year: selections again (a repeat, or from 2019 an upgraded or typical
    county), not new demonstration counties. The places are compared as of the later year, so a
    county designated before a merger and its merger partner designated after are two places."""
    listed = list(entries)
    repeats: set[Hashable] = set()
    for year in sorted({entry_year for _id, _unit, entry_year in listed}):
        earlier = {resolver.place(unit, year) for _id, unit, entry_year in listed if entry_year < year}
        repeats.update(entry_id for entry_id, unit, entry_year in listed if entry_year == year and resolver.place(unit, year) in earlier)
    return repeats


def place_resolver() -> PlaceResolver[int]:
    """The resolver over the current primary successions (one query)."""
    rows = UnitSuccession.objects.filter(is_primary=True, successor__isnull=False).values_list("predecessor_id", "successor_id", "year")
    return PlaceResolver({predecessor: (successor, year) for predecessor, successor, year in rows})


def known_as(units: Iterable[int]) -> dict[int, set[int]]:
    """`PlaceResolver.known_as` for a few units (a page), in one query that reads only their rows:
    the lineage closure that `services.rebuild_lineage` keeps from the same primary successions
    (every unit whose chain of successors reaches the unit, and the unit itself)."""
    found = {unit: {unit} for unit in units}
    for ancestor, descendant in _LINEAGE_ROWS.rows(found):
        found[descendant].add(ancestor)
    return found


# Unordered: the model's ordering (by the ancestor's key) would join the units for nothing.
_LINEAGE_ROWS = IdSetQuery(
    lambda units: UnitLineage.objects.filter(descendant_id__in=units).order_by().values_list("ancestor_id", "descendant_id")
)


# -- a place named by a code: what every door's code filter, search and lookup finds -----------
#
# An old code finds its place: the unit it has become (`Unit.current`, kept from the primary
# successions by `services.rebuild_lineage`; a unit in use is its own). The place's records are
# those held under any of its codes, whichever of them is asked: the lineage's SQL form of
# `known_as`, so a filter selects what the county page shows.


def place_named(code: str) -> Unit | None:
    """The unit `code` (an official code or a registry key) names today: the unit itself, or the
    unit a retired code has become. None for a code the registry never held."""
    unit = Unit.objects.select_related("current").filter(key=code).first()
    return None if unit is None else unit.became or unit


def units_named(code: str, *, prefix: bool = False) -> Q:
    """Units a code names, for a list of units: the unit holding it (with `prefix`, every unit
    whose code starts with it) and the place an exact code names today."""
    held = Q(key__startswith=code) if prefix else Q(key=code)
    return held | Q(pk__in=Unit.objects.filter(key=code).values("current"))


def place_units(units: QuerySet[Unit]) -> QuerySet[UnitLineage, Any]:
    """The ids of every unit of the places `units` have become today: each place and every unit
    that became it (its earlier codes, units merged into it)."""
    return UnitLineage.objects.filter(descendant__in=units.values("current")).values("ancestor")


def held_by_place_named(code: str, path: str = "unit__") -> Q:
    """Records (their unit reached through `path`) of the place `code` names today, under any of
    its codes: an old code finds its successor's records, the current code those held under the
    codes it replaced and the units merged into it, and every code of a place the same records."""
    return Q(**{f"{path}pk__in": place_units(Unit.objects.filter(key=code))})
