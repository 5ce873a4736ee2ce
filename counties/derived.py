"""The derived data every door reads, worked out by the writer once per edit instead of by the
first reader after it.

Every statistic (`counties.statistics`, `counties.targets`) is cached under the data token, and
its cost grows with the data: worked out on the read path, the first request after an edit paid
for all of it (at ten times the data, the statistics page took eight times as long). The registry
is read-mostly and every edit goes through one writer (`counties.services`), so the writer pays
instead: right after its transaction commits and the new token is published, `refresh` works out
what the pages, the API and the exports read, for the latest year and every as-of year the pages
offer, and stores it under the new token in the default cache (shared Redis in production: every
instance reads it; per-process memory otherwise: this process reads it).

Rules:
* Once per transaction, after its commit: `services` calls it where it publishes the new token,
  never for a dry run, a preview or a rolled-back transaction (they publish no token).
* Nothing depends on it: each statistic still works itself out when its key is missing (evicted,
  or another process with its own memory cache), so a refresh that failed or has not finished
  costs time, never a wrong number. A failure is logged by the caller; the write stands.
* It goes through the statistics' own cached functions, under the new token pinned: the same
  keys and the same code as a read, and the rows are loaded once for all of them.
"""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache

from . import statistics, targets
from .data_token import DataState, pinned
from .services import data_change_pending


def refresh(state: DataState) -> None:
    """Work out and cache, under `state`'s token, every statistic the doors read."""
    if isinstance(caches["default"], DummyCache) or data_change_pending():
        return  # nothing would be kept (the statistics are never cached inside an uncommitted write)
    with pinned(state):
        latest = statistics.latest_batch_year()
        statistics.list_index()  # the county list, its facets and filters (also kept in this process)
        statistics.coverage_series()  # and coverage(year) for every year, cached one by one
        statistics.batch_composition()
        statistics.funding_totals()
        statistics.exits()
        for year in range(statistics.FIRST_YEAR, latest + 1):  # the as-of years the statistics page offers
            statistics.province_table(year)
        targets.three_coverages_series()  # and three_coverages(year) for every year
        targets.target_attainment()
        targets.assessment_summary()
        targets.national_series()
