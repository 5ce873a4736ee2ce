"""The illustrative roster: invented designations that reproduce the published figures.

No official county-by-county roster of designations is available (data/PROVENANCE.md §5), yet
the statistics, pages and API need a full programme to be meaningful. This module builds one,
deterministically, around the designations recorded from real sources (which it never touches),
and marks every record it creates as illustrative. It reproduces:

* the batch sizes 2014-2019 (56, 200, 240, 260, 260, 215: 1,231 batch entries);
* the poverty counties per batch where published: 66% of 2016 (158 of 240), 237 in 2017, 238 in
  2018, 138 in 2019;
* 1,016 distinct counties and 737 covered poverty counties (88.6%) at end-2018, with no repeat
  designation before 2019 (1,016 is both the entries and the distinct counties);
* 1,180 distinct counties and all 832 poverty counties covered at end-2019, so 51 of 2019's 215
  entries are repeat designations;
* the published number of counties per province and batch (2014-2016 in full; single provinces
  in 2017 and 2018). The 2015 and 2016 tables fall short of the batch by the units of the Xinjiang
  Production and Construction Corps (兵团: 2 and 4), which go to the Corps' cities (6590xx).

Where published figures disagree by one: 261 poverty counties in the 2014-2016 batches (reported
mid-2017) + 237 + 238 = 736, against the headline 737 at end-2018. The headline wins, so the
2014-2016 batches hold 262 poverty counties here, and the mid-2017 figure of 261 is the one that
gave way.

The roster is generated with the lowest-numbered choices under a fixed hash order, so two runs
on the same data give the same roster. A re-run writes only what differs, and never what staff
changed since the roster wrote it (the snapshot rule of `counties.writes.snapshots`, which
load_reference_data follows too). `remove_illustrative_roster()` deletes it again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP
from typing import Any, TypeGuard

from django.db import transaction
from django.db.models import Count

from counties.models import (
    Batch,
    Designation,
    DesignationKind,
    FundingAllocation,
    FundingLevel,
    PovertyStatus,
    ProgrammeFact,
    ProgrammeLevel,
    PublishedProvinceCount,
    SourceKind,
    Unit,
    UnitType,
    code_in_use,
)
from counties.models.programme import (
    FORMER_ROSTER_SOURCES,
    FUNDING_NOTE,
    FUNDING_PURPOSE,
    ROSTER_LOAD_REASON,
    ROSTER_NOTE,
    ROSTER_REMOVE_REASON,
    ROSTER_RESTATE_REASON,
    ROSTER_SOURCE,
)
from counties.reads.places import place_resolver, repeat_selections
from counties.reads.statistics import batch_composition, coverage
from counties.writes.services import (
    ReplacementBlocked,
    batch_label,
    province_label,
    record_initial_history,
    remove_designations,
    remove_funding,
    write_records,
)
from counties.writes.snapshots import Loaded, changed_since_loaded, forget, sync_records

# The published cumulative figures the roster reproduces, by the year-end they describe:
# (distinct demonstration counties, poverty counties covered), as ProgrammeFact identifiers. The
# May-2020 figures describe the programme after the 2019 batch (there was no 2020 batch by then).
CUMULATIVE_FACTS = {2018: ("C2018_n", "C2018_pov"), 2019: ("C2020_n", "C2020_cov")}
XINJIANG = "650000"
CORPS_PREFIX = "6590"
# Units a demonstration county is normally drawn from (urban districts rarely were).
COUNTY_TYPES = {
    UnitType.COUNTY,
    UnitType.COUNTY_LEVEL_CITY,
    UnitType.AUTONOMOUS_COUNTY,
    UnitType.BANNER,
    UnitType.AUTONOMOUS_BANNER,
}
# Repeat designations in 2019 that follow a code change, so the roster exercises that trap.
CODE_CHANGE_REPEATS = 3


class RosterError(Exception):
    """The roster cannot be built consistently with the published figures."""


@dataclass(frozen=True)
class RosterTargets:
    """The published figures the roster must reproduce, read from the database (the batches'
    published sizes and poverty counts, and the published cumulative figures), never retyped here."""

    batch_sizes: dict[int, int]
    poverty_per_batch: dict[int, int]
    cumulative: dict[int, tuple[int, int]]

    @property
    def years(self) -> list[int]:
        return sorted(self.batch_sizes)

    @property
    def last_year(self) -> int:
        return max(self.cumulative)

    @property
    def poverty_before_first_published(self) -> int:
        """Poverty counties the batches without a published count hold together: what the earliest
        cumulative figure leaves after the batches that have one."""
        year = min(self.cumulative)
        return self.cumulative[year][1] - sum(n for y, n in self.poverty_per_batch.items() if y <= year)

    @property
    def years_without_poverty_count(self) -> list[int]:
        return [y for y in self.years if y not in self.poverty_per_batch]


def roster_targets() -> RosterTargets:
    """Read the targets: every first batch up to the last cumulative figure, with its published
    size; its poverty count as published, or else its published share of its size (2016: 66% of
    240 → 158)."""
    facts: dict[str, Any] = dict(
        ProgrammeFact.objects.filter(fact_id__in=[f for pair in CUMULATIVE_FACTS.values() for f in pair]).values_list("fact_id", "value")
    )
    missing = sorted(f for pair in CUMULATIVE_FACTS.values() for f in pair if facts.get(f) is None)
    if missing:
        raise RosterError(f"published figures {', '.join(missing)} are missing: run load_reference_data first")
    cumulative = {year: (int(facts[distinct]), int(facts[covered])) for year, (distinct, covered) in CUMULATIVE_FACTS.items()}
    sizes: dict[int, int] = {}
    poverty: dict[int, int] = {}
    for batch in Batch.objects.filter(
        level=ProgrammeLevel.NATIONAL, sequence=1, year__lte=max(cumulative), planned_size__isnull=False
    ).order_by("year"):
        assert batch.planned_size is not None  # the query asks for a published size
        sizes[batch.year] = batch.planned_size
        if batch.published_poverty_counties is not None:
            poverty[batch.year] = batch.published_poverty_counties
        elif batch.published_poverty_share_pct is not None:
            poverty[batch.year] = int((batch.published_poverty_share_pct * batch.planned_size / 100).to_integral_value(ROUND_HALF_UP))
    if not sizes:
        raise RosterError("no batch with a published size: run load_reference_data first")
    return RosterTargets(sizes, poverty, cumulative)


def _order(year: int, key: str) -> str:
    return hashlib.sha256(f"{year}|{key}".encode()).hexdigest()


@dataclass
class UnitInfo:
    pk: int
    key: str
    province: str
    unit_type: str
    parent_type: str
    first_year: int | None
    last_year: int | None
    current: int

    def in_use(self, year: int) -> bool:
        return code_in_use(self.first_year, self.last_year, year)

    @property
    def is_corps(self) -> bool:
        return self.key.startswith(CORPS_PREFIX)


@dataclass
class Slot:
    """The counties a province (or the Corps, or "anywhere else") must receive in a batch."""

    name: str
    provinces: set[str] | None  # None: any province not given a slot of its own
    corps: bool | None  # True: Corps units only; False: no Corps units; None: either
    need: int
    poverty: int = 0


@dataclass
class Plan:
    # (unit pk, batch year) -> old revolutionary base flag
    designations: dict[tuple[int, int], bool | None] = field(default_factory=dict)


class RosterBuilder:
    def __init__(self) -> None:
        self.units = {
            u.pk: u
            for u in (
                UnitInfo(pk, key, province, unit_type, parent_type, first, last, current)
                for pk, key, province, unit_type, parent_type, first, last, current in Unit.objects.values_list(
                    "pk", "key", "province__code", "unit_type", "parent_type", "first_year", "last_year", "current_id"
                )
            )
        }
        self.targets = roster_targets()
        self.places = set(PovertyStatus.objects.values_list("unit_id", flat=True))
        # The statistics' place rule (counties.reads.places), at the year-ends the published figures
        # describe: a unit's place at the last of them stands for its `current` (two units merged
        # only later still count twice), and a unit is "the same place" as a poverty county when
        # they share a place at any of them (places only merge over time, so this holds for every
        # earlier batch year too).
        self.resolver = resolver = place_resolver()
        for unit in self.units.values():
            unit.current = resolver.place(unit.pk, self.targets.last_year)
        self.places_of: dict[int, set[int]] = defaultdict(set)
        for year in self.targets.cumulative:
            poverty_at: dict[int, set[int]] = defaultdict(set)
            for pk in self.places:
                poverty_at[resolver.place(pk, year)].add(pk)
            for pk in self.units:
                self.places_of[pk] |= poverty_at.get(resolver.place(pk, year), set())
        self.batches = {b.year: b for b in Batch.objects.filter(level=ProgrammeLevel.NATIONAL, year__in=self.targets.years, sequence=1)}
        missing = sorted(set(self.targets.years) - set(self.batches))
        if missing:
            raise RosterError(f"no batch for {', '.join(map(str, missing))}: run load_reference_data first")
        self.fixed = list(
            Designation.objects.counted()
            .exclude(source_kind=SourceKind.ILLUSTRATIVE)
            .filter(batch__in=self.batches.values())
            .values_list("unit_id", "batch__year")
        )
        # Official records of a batch and province replace that cell's illustrative ones, so the
        # roster never fills such a cell (services.replaced_by_official is the rule).
        self.official: dict[int, set[str]] = defaultdict(set)
        for year, province in (
            Designation.objects.filter(source_kind=SourceKind.OFFICIAL, batch__in=self.batches.values())
            .values_list("batch__year", "unit__province__code")
            .distinct()
        ):
            self.official[year].add(province)
        # year -> province -> every count stated for it
        self.published: dict[int, dict[str, list[int]]] = defaultdict(dict)
        for (year, province), counts in published_province_counts(self.targets.years).items():
            self.published[year][province] = counts

        self.plan = Plan()
        # Units recorded from real sources in 2014-2018 are kept for their own batch: no earlier
        # batch may take them (or the poverty counties they cover), or they would become repeats.
        self.reserved_currents = {self.units[pk].current for pk, year in self.fixed if year < self.targets.last_year}
        self.reserved_places = set().union(*(self.places_of[pk] for pk, year in self.fixed if year < self.targets.last_year))
        self.used_currents: set[int] = set()
        self.covered: set[int] = set()
        self.designated: list[tuple[int, int]] = []  # (unit, year), in order

    # -- helpers ----------------------------------------------------------------------------

    def unit_at(self, pk: int, year: int) -> UnitInfo | None:
        """The unit a place was in `year`: the place rule's answer, when its code was in use then."""
        unit = self.units[self.resolver.place(pk, year)]
        return unit if unit.in_use(year) else None

    def add(self, unit: UnitInfo, year: int, old_base: bool | None = None, fixed: bool = False) -> None:
        if not fixed:
            self.plan.designations[(unit.pk, year)] = old_base
        self.used_currents.add(unit.current)
        self.covered |= self.places_of[unit.pk]
        self.designated.append((unit.pk, year))

    def claimed(self, year: int) -> set[str]:
        """Provinces the "elsewhere" slot may not draw from: those with a slot of their own, and
        those whose cell holds official records."""
        return set(self.published[year]) | self.official[year]

    def in_slot(self, unit: UnitInfo, slot: Slot, claimed: set[str]) -> bool:
        if slot.corps is not None and unit.is_corps != slot.corps:
            return False
        return unit.province in slot.provinces if slot.provinces is not None else unit.province not in claimed

    def fresh(self, unit: UnitInfo | None, year: int) -> TypeGuard[UnitInfo]:
        return (
            unit is not None and unit.in_use(year) and unit.current not in self.used_currents and unit.current not in self.reserved_currents
        )

    def poverty_candidates(self, year: int, slot: Slot, claimed: set[str]) -> list[UnitInfo]:
        """Units that would newly cover exactly one poverty county, in roster order."""
        found = []
        for place in self.places - self.covered - self.reserved_places:
            unit = self.unit_at(place, year)
            if self.fresh(unit, year) and self.in_slot(unit, slot, claimed) and self.places_of[unit.pk] == {place}:
                found.append(unit)
        return sorted(found, key=lambda u: _order(year, u.key))

    def other_candidates(self, year: int, slot: Slot, claimed: set[str]) -> list[UnitInfo]:
        """Units that are no poverty county, before or after a code change, in roster order:
        counties, banners and county-level cities first, districts only where those run out
        (Chongqing's demonstration counties were largely districts)."""
        found = [u for u in self.units.values() if not self.places_of[u.pk] and self.fresh(u, year) and self.in_slot(u, slot, claimed)]
        return sorted(found, key=lambda u: (not (u.is_corps or u.unit_type in COUNTY_TYPES), _order(year, u.key)))

    # -- planning ---------------------------------------------------------------------------

    def slots(self, year: int) -> list[Slot]:
        """One slot per province with a published count, and one for the rest of the batch.

        Xinjiang's published figure includes the Corps' units; where the autonomous region's own
        notice states a smaller number, the difference goes to a slot of Corps units.
        """
        fixed_here = self.fixed_for(year)
        statements = self.published[year]
        claimed = self.claimed(year)
        slots = []
        for province, counts in sorted(statements.items()):
            if province in self.official[year]:
                continue  # an official cell: not the roster's to fill
            in_province = [u for u in fixed_here if u.province == province]
            if province == XINJIANG and min(counts) < max(counts):
                slots.append(Slot(province, {province}, False, min(counts) - sum(not u.is_corps for u in in_province)))
                slots.append(Slot("corps", {province}, True, max(counts) - min(counts) - sum(u.is_corps for u in in_province)))
            else:
                slots.append(Slot(province, {province}, None, max(counts) - len(in_province)))
        rest = self.targets.batch_sizes[year] - sum(max(c) for c in statements.values())
        slots.append(Slot("elsewhere", None, None, rest - sum(1 for u in fixed_here if u.province not in claimed)))
        for slot in slots:
            if slot.need < 0:
                raise RosterError(f"{year}: more designations recorded for {slot.name} than published")
        return slots

    def allocate_poverty(self, year_slots: list[tuple[int, Slot]], total: int) -> None:
        """Share `total` poverty designations among slots in proportion to each slot's poverty
        density (uncovered poverty counties per candidate unit), by largest remainder."""
        weights, caps = [], []
        for year, slot in year_slots:
            claimed = self.claimed(year)
            stock = len(self.poverty_candidates(year, slot, claimed))
            others = len(self.other_candidates(year, slot, claimed))
            caps.append(min(slot.need, stock))
            weights.append(slot.need * stock / (stock + others) if stock + others else 0)
        shares = [0] * len(year_slots)
        remaining = total
        while remaining > 0:
            open_slots = [i for i in range(len(shares)) if shares[i] < caps[i] and weights[i] > 0]
            if not open_slots:
                raise RosterError(f"not enough poverty counties to place {remaining} more in {[y for y, _ in year_slots]}")
            weight = sum(weights[i] for i in open_slots)
            exact = {i: remaining * weights[i] / weight for i in open_slots}
            given = {i: min(int(exact[i]), caps[i] - shares[i]) for i in open_slots}
            if not any(given.values()):
                best = max(open_slots, key=lambda i: (exact[i] - int(exact[i]), -i))
                given = {best: 1}
            for i, n in given.items():
                shares[i] += n
                remaining -= n
        for (_, slot), share in zip(year_slots, shares, strict=True):
            slot.poverty = share

    def fill(self, year: int, slots: list[Slot], old_base: bool | None) -> None:
        claimed = self.claimed(year)
        for slot in slots:
            poverty = self.poverty_candidates(year, slot, claimed)[: slot.poverty]
            others = self.other_candidates(year, slot, claimed)[: slot.need - slot.poverty]
            if len(poverty) + len(others) < slot.need:
                raise RosterError(f"{year} {slot.name}: only {len(poverty) + len(others)} of {slot.need} counties available")
            for unit in poverty:
                self.add(unit, year)
            for unit in others:
                self.add(unit, year, old_base=old_base)

    def fixed_for(self, year: int) -> list[UnitInfo]:
        return [self.units[pk] for pk, y in self.fixed if y == year]

    def build(self) -> Plan:
        targets = self.targets
        early = targets.years_without_poverty_count
        later = [y for y in targets.years if y in targets.poverty_per_batch and y < targets.last_year]
        slots = {year: self.slots(year) for year in early + later}
        for year in early:
            for unit in self.fixed_for(year):
                self.add(unit, year, fixed=True)
        fixed_poverty_early = sum(1 for pk, y in self.fixed if y in early and self.places_of[pk])
        self.allocate_poverty([(y, s) for y in early for s in slots[y]], targets.poverty_before_first_published - fixed_poverty_early)
        for year in early:
            self.fill(year, slots[year], old_base=None)
        for year in later:
            fixed = self.fixed_for(year)
            for unit in fixed:
                self.add(unit, year, fixed=True)
            self.allocate_poverty(
                [(year, s) for s in slots[year]], targets.poverty_per_batch[year] - sum(1 for u in fixed if self.places_of[u.pk])
            )
            # The non-poverty counties of 2017 and 2018 were old revolutionary base counties.
            self.fill(year, slots[year], old_base=True if year >= 2017 else None)
        self.build_2019()
        return self.plan

    def build_2019(self) -> None:
        """Cover every remaining poverty county, then repeat designations up to the published totals."""
        year = self.targets.last_year
        earlier = list(self.designated)
        fixed = self.fixed_for(year)
        entries_2019: set[int] = set()
        new_currents = 0
        for fixed_unit in fixed:
            new_currents += fixed_unit.current not in self.used_currents
            self.add(fixed_unit, year, fixed=True)
            entries_2019.add(fixed_unit.pk)
        for place in sorted(self.places - self.covered, key=lambda pk: _order(year, self.units[pk].key)):
            if place in self.covered:
                continue  # covered by a unit placed earlier in this loop (a merged place)
            unit = self.unit_at(place, year)
            if unit is None:
                raise RosterError(f"poverty county {self.units[place].key} has no unit in use in {year}")
            if unit.province in self.official[year]:
                continue  # an official cell: what it holds is the record, full coverage or not
            new_currents += unit.current not in self.used_currents
            self.add(unit, year)
            entries_2019.add(unit.pk)

        poverty_entries = sum(1 for pk in entries_2019 if self.places_of[pk])
        targets = self.targets
        distinct_target, _ = targets.cumulative[year]
        distinct_before, _ = targets.cumulative[max(y for y in targets.cumulative if y < year)]
        poverty_repeats = targets.poverty_per_batch[year] - poverty_entries
        new_others = (distinct_target - distinct_before) - new_currents
        other_repeats = (
            targets.batch_sizes[year]
            - targets.poverty_per_batch[year]
            - new_others
            - sum(1 for pk in entries_2019 if not self.places_of[pk])
        )
        if self.official[year]:
            # Official cells hold what they hold; the roster fills the rest as far as it goes.
            poverty_repeats, new_others, other_repeats = (max(0, n) for n in (poverty_repeats, new_others, other_repeats))
        if min(poverty_repeats, new_others, other_repeats) < 0:
            raise RosterError(f"{year}: the published figures cannot be met (repeats {poverty_repeats}/{other_repeats}, new {new_others})")

        for unit in self.other_candidates(year, Slot("elsewhere", None, None, new_others), self.official[year])[:new_others]:
            self.add(unit, year)
            entries_2019.add(unit.pk)

        def repeats(poverty: bool, count: int) -> None:
            candidates = []
            for pk, _ in earlier:
                unit = self.unit_at(pk, year)
                if (
                    unit is not None
                    and unit.pk not in entries_2019
                    and bool(self.places_of[pk]) == poverty
                    and unit.province not in self.official[year]
                ):
                    candidates.append((unit.pk == pk, _order(year, unit.key), unit))
            # A few repeats that follow a code change first, then the rest in roster order.
            changed = sorted(c for c in candidates if not c[0])[:CODE_CHANGE_REPEATS]
            chosen = changed + sorted(c for c in candidates if c not in changed)
            placed = 0
            for _, _, unit in chosen:
                if placed == count:
                    break
                if unit.pk not in entries_2019:
                    self.add(unit, year)
                    entries_2019.add(unit.pk)
                    placed += 1
            if placed < count and not self.official[year]:
                raise RosterError(f"{year}: only {placed} of {count} repeat designations could be placed")

        repeats(poverty=True, count=poverty_repeats)
        repeats(poverty=False, count=other_repeats)


def _check(expected: dict[str, object], actual: dict[str, object]) -> list[str]:
    return [f"{k}: expected {v}, got {actual[k]}" for k, v in expected.items() if actual[k] != v]


def verify_roster(targets: RosterTargets | None = None, *, explained: bool = False) -> list[str]:
    """Check the registry's numbers against every published figure the roster promises.

    Raises RosterError when a figure is missed and nothing explains it; returns the figures missed
    because official records of a batch and province replace the roster there, or because staff
    changed the roster's records and the loader kept their changes (`explained`).
    The figures are read from the database (roster_targets) unless given.
    """
    targets = targets or roster_targets()
    expected: dict[str, object] = {}
    actual: dict[str, object] = {}
    for year, (distinct, covered) in targets.cumulative.items():
        c = coverage(year)
        entries = sum(size for y, size in targets.batch_sizes.items() if y <= year)
        for label, want, got in (
            ("batch entries", entries, c.batch_entries),
            ("distinct counties", distinct, c.demonstration_counties),
            ("covered poverty counties", covered, c.poverty_counties_covered),
        ):
            expected[f"{label} {year}"] = want
            actual[f"{label} {year}"] = got
    for row in batch_composition():
        if row.year in targets.batch_sizes and row.sequence == 1:
            actual[f"size {row.year}"] = row.size
            expected[f"size {row.year}"] = targets.batch_sizes[row.year]
            if row.year in targets.poverty_per_batch:
                actual[f"poverty {row.year}"] = row.poverty_counties
                expected[f"poverty {row.year}"] = targets.poverty_per_batch[row.year]
    counts = province_counts()
    for (year, province), stated in published_province_counts(targets.years).items():
        actual[f"{year} {province}"] = counts.get((year, province), 0)
        expected[f"{year} {province}"] = max(stated)
    wrong = _check(expected, actual)
    if wrong and not explained and not Designation.objects.filter(source_kind=SourceKind.OFFICIAL, batch__year__in=targets.years).exists():
        raise RosterError("the roster does not reproduce the published figures: " + "; ".join(wrong))
    return wrong


def province_counts() -> dict[tuple[int, str], int]:
    """(batch year, province code) -> counted designations, for the first batch of each year."""
    return {
        (row["batch__year"], row["unit__province__code"]): row["n"]
        for row in Designation.objects.counted()
        .filter(batch__sequence=1)
        .values("batch__year", "unit__province__code")
        .annotate(n=Count("pk"))
    }


def published_province_counts(years: list[int]) -> dict[tuple[int, str], list[int]]:
    """(year, province code) -> every count stated for it, for the roster's years."""
    stated: dict[tuple[int, str], list[int]] = defaultdict(list)
    for year, province, count in PublishedProvinceCount.objects.filter(year__in=years).values_list("year", "province__code", "count"):
        stated[(year, province)].append(count)
    return stated


@dataclass
class RosterReport:
    created: int
    removed: int
    # Records of an earlier roster whose source was reworded (FORMER_ROSTER_SOURCES).
    restated: int = 0
    # Designations whose old-base flag, status or source the roster changed (nobody had since it wrote them).
    updated: int = 0
    funding_created: int = 0
    # Published figures the registry no longer matches because official records replace the roster,
    # or because staff changed the roster's records (the edits kept below).
    departures: list[str] = field(default_factory=list)
    # The roster's records someone changed or deleted since it wrote them, which it therefore left
    # as they are although it would write otherwise (one line each, naming the record).
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.removed or self.restated or self.updated or self.funding_created)


LOAD_REASON, REMOVE_REASON, RESTATE_REASON = ROSTER_LOAD_REASON, ROSTER_REMOVE_REASON, ROSTER_RESTATE_REASON

# What the roster last wrote to each of its records (the snapshot rule load_reference_data uses
# too), kept apart from the reference data's snapshots of the same models.
ROSTER_DESIGNATIONS = Loaded(Designation, LOAD_REASON, LOAD_REASON, namespace="illustrative roster", says="the roster would write")
ROSTER_FUNDING = Loaded(FundingAllocation, LOAD_REASON, LOAD_REASON, namespace="illustrative roster", says="the roster would write")
DESIGNATION_KEY = ("unit_id", "batch_id")
FUNDING_KEY = ("designation_id", "level", "source_kind")
DESIGNATION_FIELDS = ["kind", "is_old_revolutionary_base", "source", "source_kind", "source_note"]


class _Names:
    """Designations by batch, province, name and code, as the report names them; the units and
    batches are read at the first name asked for (a run that keeps nothing reads none)."""

    def __init__(self, unit_ids: Iterable[int]) -> None:
        self.unit_ids = set(unit_ids)
        self.units: dict[int, Unit] = {}
        self.batches: dict[int, Batch] = {}

    def add(self, unit_ids: Iterable[int]) -> None:
        self.unit_ids.update(unit_ids)

    def designation(self, key: tuple) -> str:
        unit_id, batch_id = key
        if unit_id not in self.units:
            missing = sorted(self.unit_ids - set(self.units) | {unit_id})
            self.units.update(Unit.objects.select_related("province").in_bulk(missing))
        if not self.batches:
            self.batches = {b.pk: b for b in Batch.objects.all()}
        unit = self.units.get(unit_id)
        batch = self.batches.get(batch_id)
        if unit is None or batch is None:
            return f"{unit_id}, {batch_id}"
        return f"{batch_label(batch)} {province_label(unit)} {unit.name_zh} ({unit.key})"


def roster_present() -> bool:
    """Whether the registry holds illustrative designations: a deployment loads the roster only
    when it does not (a start-up is no time to rework the records staff work on)."""
    return Designation.objects.filter(source_kind=SourceKind.ILLUSTRATIVE).exists()


@transaction.atomic
def load_illustrative_roster() -> RosterReport:
    """Build the roster and bring the stored one in line with it; a no-op when nothing would change.

    Never undoes a person's work: a record the roster wrote is changed or removed only while it
    still holds what the roster last wrote to it (snapshots.sync_records, as load_reference_data
    does), and a record someone deleted is not recreated; each such record is named in the report.
    Written through the same service as the imports (services.write_records), which refuses an
    illustrative record in a batch and province that holds official records.
    """
    restated = _restate_source()
    builder = RosterBuilder()
    plan = builder.build()
    batch_ids = {year: batch.pk for year, batch in builder.batches.items()}
    # A place the registry or the roster designated in an earlier batch is selected again (repeat):
    # judged as the services judge a written designation, over every national designation.
    others = Designation.objects.filter(batch__level=ProgrammeLevel.NATIONAL).exclude(source_kind=SourceKind.ILLUSTRATIVE)
    entries = [(("stored", pk), unit, year) for pk, unit, year in others.values_list("pk", "unit_id", "batch__year")]
    repeats = repeat_selections(place_resolver(), [*entries, *((("roster", unit, year), unit, year) for unit, year in plan.designations)])
    rows = [
        {
            "unit_id": unit,
            "batch_id": batch_ids[year],
            "kind": DesignationKind.REPEAT if ("roster", unit, year) in repeats else DesignationKind.NEW,
            "is_old_revolutionary_base": old_base,
            "source": ROSTER_SOURCE,
            "source_kind": SourceKind.ILLUSTRATIVE,
            "source_note": ROSTER_NOTE,
        }
        for (unit, year), old_base in sorted(plan.designations.items(), key=lambda item: (item[0][1], item[0][0]))
    ]
    wanted = {(row["unit_id"], row["batch_id"]) for row in rows}
    stale = [
        values
        for values in Designation.objects.filter(source_kind=SourceKind.ILLUSTRATIVE).values("pk", *DESIGNATION_KEY, *DESIGNATION_FIELDS)
        if (values["unit_id"], values["batch_id"]) not in wanted
    ]
    names = _Names([*(unit for unit, _year in plan.designations), *(v["unit_id"] for v in stale)])
    kept: list[str] = []

    # Illustrative designations the roster no longer wants go, unless someone changed them since.
    edited = changed_since_loaded(ROSTER_DESIGNATIONS, DESIGNATION_KEY, stale)
    for key, fields in sorted(edited.items()):
        why = f"{', '.join(fields)} changed since the roster wrote it" if fields else "written before the roster kept snapshots"
        kept.append(f"illustrative designation {names.designation(key)}: {why}, not removed")
    goners = [v for v in stale if (v["unit_id"], v["batch_id"]) not in edited]
    removed = _remove_designations([v["pk"] for v in goners], LOAD_REASON)
    forget(ROSTER_DESIGNATIONS, [(v["unit_id"], v["batch_id"]) for v in goners])
    forget(ROSTER_FUNDING, [(v["pk"], FundingLevel.CENTRAL, SourceKind.ILLUSTRATIVE) for v in goners])

    count, _ids = sync_records(ROSTER_DESIGNATIONS, "illustrative designation", DESIGNATION_KEY, rows, describe=names.designation)
    kept += count.kept

    # Central funds for every counted designation of a batch with a published per-county amount
    # that has no real central funding record.
    really_funded = set(
        FundingAllocation.objects.filter(level=FundingLevel.CENTRAL)
        .exclude(source_kind=SourceKind.ILLUSTRATIVE)
        .values_list("designation_id", flat=True)
    )
    funded = list(
        Designation.objects.counted()
        .filter(batch__central_funds_per_county__isnull=False)
        .values_list("pk", "unit_id", "batch_id", "batch__year", "batch__central_funds_per_county")
        .order_by("pk")
    )
    of_designation = {pk: (unit, batch) for pk, unit, batch, _year, _amount in funded}
    funding_rows = [
        {
            "designation_id": pk,
            "unit_id": unit,
            "fiscal_year": year,
            "level": FundingLevel.CENTRAL,
            "amount": amount,
            "purpose": FUNDING_PURPOSE,
            "source": ROSTER_SOURCE,
            "source_kind": SourceKind.ILLUSTRATIVE,
            "source_note": FUNDING_NOTE,
        }
        for pk, unit, _batch, year, amount in funded
        if pk not in really_funded
    ]

    def funding_of(key: tuple) -> str:
        designation = of_designation.get(key[0])
        if designation is None:
            return f"of designation {key[0]}"
        names.add([designation[0]])
        return f"of {names.designation(designation)}"

    funding, _ids = sync_records(ROSTER_FUNDING, "illustrative central funds", FUNDING_KEY, funding_rows, describe=funding_of)
    kept += funding.kept
    record_initial_history("loaded with the illustrative roster")  # records loaded before any history
    return RosterReport(
        created=count.created,
        removed=removed,
        restated=restated,
        updated=count.updated,
        funding_created=funding.created,
        kept=kept,
        departures=verify_roster(builder.targets, explained=bool(kept)),
    )


def _restate_source() -> int:
    """Give the roster's records written under an earlier wording of its source the current one."""
    restated = 0
    for model in (Designation, FundingAllocation):
        stale = list(model.objects.filter(source_kind=SourceKind.ILLUSTRATIVE, source__in=FORMER_ROSTER_SOURCES).order_by("pk"))
        for record in stale:
            record.source = ROSTER_SOURCE
        if stale:
            write_records(model, [], stale, fields=["source"], user=None, reason=RESTATE_REASON)
        restated += len(stale)
    return restated


def _remove_designations(ids: list[int], reason: str) -> int:
    """Delete the given illustrative designations and their illustrative funding. A real funding
    record tied to one of them stops the removal before anything is written, with the records named
    (ReplacementBlocked); the whole command then writes nothing."""
    removed = 0
    try:
        for start in range(0, len(ids), 900):
            chunk = Designation.objects.filter(source_kind=SourceKind.ILLUSTRATIVE, pk__in=ids[start : start + 900])
            removed += len(remove_designations(chunk, user=None, reason=reason).designations)
    except ReplacementBlocked as exc:
        raise RosterError(str(exc)) from exc
    return removed


@transaction.atomic
def remove_illustrative_roster(reason: str = REMOVE_REASON) -> int:
    """Delete every illustrative designation and funding record, in a handful of queries, each with
    a history entry carrying `reason`; returns the designations removed. The roster's snapshots go
    too: a later load builds the roster afresh."""
    try:
        removal = remove_designations(Designation.objects.filter(source_kind=SourceKind.ILLUSTRATIVE), user=None, reason=reason)
    except ReplacementBlocked as exc:
        raise RosterError(str(exc)) from exc
    # Illustrative funding of real designations (the roster funds those of a batch with a published
    # per-county amount) goes too.
    remove_funding(FundingAllocation.objects.filter(source_kind=SourceKind.ILLUSTRATIVE), user=None, reason=reason)
    forget(ROSTER_DESIGNATIONS)
    forget(ROSTER_FUNDING)
    return len(removal.designations)
