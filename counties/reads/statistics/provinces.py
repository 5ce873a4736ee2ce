"""Provinces compared at a year-end: units, poverty counties, entries, demonstration counties,
covered poverty counties and funding, per province."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from counties.models import FundingAllocation, Province, local_name
from counties.reads.numbers import percentage, yuan
from counties.reads.statistics.cache import cached
from counties.reads.statistics.rows import ILLUSTRATIVE, Programme, resolve_as_of


@dataclass(frozen=True)
class ProvinceCoverage:
    code: str
    name_zh: str
    name_en: str
    short_name_zh: str
    short_name_en: str
    county_level_units: int
    # Of which the official count of county-level divisions leaves out (rows.OUTSIDE_OFFICIAL_COUNT):
    # 青海 45 = 44 official + 大柴旦, which has no county-level code.
    units_outside_official_count: int
    poverty_counties: int
    batch_entries: int
    demonstration_counties: int
    poverty_demonstration_counties: int
    poverty_counties_covered: int
    poverty_coverage_pct: Decimal | None
    funds_yuan: Decimal | None  # None: no allocation recorded for the province (not recorded, never 0)
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
    outside = programme.units_in_use(as_of, outside_official_count=True)
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
                units_outside_official_count=outside[pk],
                poverty_counties=poverty[pk],
                batch_entries=batch_entries[pk],
                demonstration_counties=demonstration[pk],
                poverty_demonstration_counties=poverty_demonstration[pk],
                poverty_counties_covered=covered[pk],
                poverty_coverage_pct=percentage(covered[pk], poverty[pk]),
                funds_yuan=yuan(funds[pk]["total"]) if pk in funds else None,
                includes_illustrative=pk in illustrative or bool(funds.get(pk, {}).get("illustrative")),
            )
        )
    return result
