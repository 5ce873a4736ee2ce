"""Coverage statistics, as defined in the design brief ("Coverage statistics: definitions").

Every door (home page, county list, province and batch pages, API, exports, `manage.py
coverage_report`) reads its numbers from here, so the same question gets the same number
wherever it is asked. Each statistic runs a fixed number of queries, whatever the number of rows,
and is cached under the current data token (`DataVersion`), which changes with every edit, so a
cached number is never stale.

When they are worked out: by the first read that needs one after an edit, under the new token,
which stores it in the default cache for every process (`cache`); a write itself works nothing out.

One module per seam, each re-exported here (`statistics.coverage(2018)`): `rows` (what every
statistic reads, loaded once per token), `cache`, `coverage`, `index` (the county list's),
`batches`, `provinces`, `funding`, `exits`, and `targets` (targets and results, imported as a
module). `coverage` and `exits` name a module and its function: here the name is the function's,
so import from the module by its full path (`from counties.reads.statistics.coverage import ...`).

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

from counties.reads.statistics.batches import (
    BatchComposition,
    batch_composition,
    batch_composition_until,
    batch_outcomes,
    outcome_rows,
    published_province_counts,
    successor_notices,
)
from counties.reads.statistics.cache import EVERY_CACHED, cached, forget_loaded_rows
from counties.reads.statistics.coverage import Coverage, coverage, coverage_series, coverage_series_until
from counties.reads.statistics.exits import ExitYear, exits, exits_until
from counties.reads.statistics.funding import FundingTotal, FundingTotals, funding_totals
from counties.reads.statistics.index import CODES, COUNT_AS, PLACES, UNITS, ListIndex, list_index
from counties.reads.statistics.provinces import ProvinceCoverage, province_table
from counties.reads.statistics.rows import Programme, latest_batch_year, resolve_as_of

__all__ = [
    "CODES",
    "COUNT_AS",
    "EVERY_CACHED",
    "PLACES",
    "UNITS",
    "BatchComposition",
    "Coverage",
    "ExitYear",
    "FundingTotal",
    "FundingTotals",
    "ListIndex",
    "Programme",
    "ProvinceCoverage",
    "batch_composition",
    "batch_composition_until",
    "batch_outcomes",
    "cached",
    "coverage",
    "coverage_series",
    "coverage_series_until",
    "exits",
    "exits_until",
    "forget_loaded_rows",
    "funding_totals",
    "latest_batch_year",
    "list_index",
    "outcome_rows",
    "province_table",
    "published_province_counts",
    "resolve_as_of",
    "successor_notices",
]
