"""Each national batch's composition: its entries, the poverty counties among them against the
batch's rule, old revolutionary base counties, provinces reached, central funds, and the outcomes
of its designations' paths (assessed, passed, to rectify, failed, accepted, withdrawn, not recorded).
Provincial batches are never among them: their designations are not counted with the national ones."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from counties.models import (
    Batch,
    Designation,
    FundingAllocation,
    LifecycleRecord,
    Outcome,
    ProgrammeFact,
    ProgrammeLevel,
    PublishedProvinceCount,
    outcomes_of,
)
from counties.reads.numbers import percentage, yuan
from counties.reads.statistics.cache import cached
from counties.reads.statistics.rows import Entry, Programme, latest_batch_year


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
    # Published per county, or None; the registry's own total ÷ size is apart, marked derived.
    central_funds_per_county_yuan: Decimal | None
    central_funds_per_county_derived_yuan: Decimal | None
    central_funds_allocated_yuan: Decimal
    roster_complete: bool
    includes_illustrative: bool
    # Outcomes of the batch's designations, withdrawn ones included (`batch_outcomes`).
    outcome_assessed: int = 0
    outcome_passed: int = 0
    outcome_rectify: int = 0
    outcome_failed: int = 0
    outcome_accepted: int = 0
    outcome_withdrawn: int = 0
    outcome_not_recorded: int = 0
    # Central funds withheld and recovered as the designations' lifecycle records state them; None:
    # none recorded (never 0).
    funds_withheld_yuan: Decimal | None = None
    funds_recovered_yuan: Decimal | None = None
    poverty_entry_ids: frozenset[int] = frozenset()

    @property
    def outcomes(self) -> list[tuple[str, str, int]]:
        """(value, label, count) of each outcome, in the order of `Outcome`, as the pages show them."""
        return outcome_rows(Counter({o.value: getattr(self, f"outcome_{o.value}") for o in Outcome}))

    @property
    def is_partial(self) -> bool:
        """Known only in part: fewer entries than the published size, none of them illustrative and
        the roster not complete (2021: 29 of 148). Its shares describe the known part only, so the
        pages say "partial (29 of 148)" instead of a share."""
        return bool(not self.roster_complete and not self.includes_illustrative and self.published_size and self.size < self.published_size)

    @property
    def known_in_part(self) -> bool:
        """Known only in part, or of a size no source states (2020: Sichuan's 17 known, the national
        size not recorded) with its roster not complete: the pages say "N recorded of M published"
        (or "of not recorded"), never a bare count that would read as the batch's size."""
        if self.is_partial:
            return True
        return self.published_size is None and not self.roster_complete and not self.includes_illustrative

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["poverty_entry_ids"]
        data["known_in_part"] = self.known_in_part
        return data


@cached
def batch_composition(as_of: int | None = None) -> list[BatchComposition]:
    """Per batch: entries, poverty counties among them, share, the rule and whether it was met,
    old revolutionary base counties where recorded, provinces reached and central funds. The one
    definition of a batch's composition: the home page, batch pages, API and reports read it.

    Central funds are the batch's published figures; per county, the published amount only. Where
    none is published, `central_funds_per_county_derived_yuan` is the published total over the
    published size (`Batch.derived_funds_per_county`), a figure of the registry's, which every door
    shows apart and marked as derived. `central_funds_allocated_yuan` adds up the central
    allocations recorded against the batch's designations.
    """
    programme = Programme.current()
    by_batch: dict[int, list[Entry]] = defaultdict(list)
    # The entries counted at the end of `as_of` (a designation withdrawn later still counts), or today's.
    for entry in programme.entries if as_of is None else programme.entries_until(as_of):
        by_batch[entry.batch].append(entry)
    poverty_places: dict[int, set[int]] = {}
    outcomes = batch_outcomes()
    returned = funds_returned()
    allocated = dict(
        FundingAllocation.objects.filter(level="central", designation__in=Designation.objects.counted())
        .values("designation__batch")
        .annotate(total=Sum("amount"))
        .values_list("designation__batch", "total")
    )
    result = []
    for batch in Batch.objects.filter(level=ProgrammeLevel.NATIONAL).order_by("year", "sequence"):
        rows = by_batch[batch.pk]
        poor = frozenset(e.pk for e in rows if programme.is_poverty_entry(e, poverty_places))
        size, rule = len(rows), batch.min_poverty_share_pct
        total, per_county = batch.central_funds_total, batch.central_funds_per_county
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
                central_funds_per_county_derived_yuan=batch.derived_funds_per_county,
                central_funds_allocated_yuan=yuan(allocated.get(batch.pk)),
                roster_complete=batch.roster_complete,
                includes_illustrative=illustrative > 0,
                **{f"outcome_{o}": n for o, n in outcomes.get(batch.pk, Counter()).items()},
                funds_withheld_yuan=returned.get(batch.pk, (None, None))[0],
                funds_recovered_yuan=returned.get(batch.pk, (None, None))[1],
                poverty_entry_ids=poor,
            )
        )
    return result


def batch_outcomes(batches: Iterable[int] | None = None) -> dict[int, Counter[str]]:
    """Per batch (national ones, or those of `batches`), how many of its designations reached each
    outcome (`outcomes_of`), withdrawn ones included: one query. The one count of outcomes: the
    batch page, the statistics page and the API read it."""
    rows = (
        Designation.objects.filter(batch__level=ProgrammeLevel.NATIONAL)
        if batches is None
        else Designation.objects.filter(batch__in=batches)
    )
    found: dict[int, Counter[str]] = defaultdict(Counter)
    for batch, latest, accepted, withdrawn in (
        rows.with_outcome().order_by().values_list("batch_id", "latest_result", "is_accepted", "is_withdrawn")  # type: ignore[misc]  # an annotation the stubs cannot see
    ):
        found[batch].update(outcomes_of(latest, accepted, withdrawn))
    return found


def funds_returned() -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """Per batch: the central funds withheld and recovered that its designations' lifecycle
    records state, each None where no record states one (one query)."""
    rows = (
        LifecycleRecord.objects.values("designation__batch")
        .annotate(withheld=Sum("funds_withheld"), recovered=Sum("funds_recovered"))
        .values_list("designation__batch", "withheld", "recovered")
        .order_by()
    )
    return {batch: (None if w is None else yuan(w), None if r is None else yuan(r)) for batch, w, r in rows}


def outcome_rows(counts: Counter[str]) -> list[tuple[str, str, int]]:
    """(value, label, count) of each outcome, in the order of `Outcome`, as the pages show them."""
    return [(o.value, str(o.label), counts.get(o.value, 0)) for o in Outcome]


def batch_composition_until(as_of: int | None = None) -> list[BatchComposition]:
    """The batches of `as_of` and earlier (every batch when None), as the statistics page and its
    CSV show them for the year chosen."""
    # As of the latest batch year, today's composition (one cached statistic for every door); as of
    # an earlier year-end, the entries counted then (a designation withdrawn later still counts).
    latest = as_of is None or as_of >= latest_batch_year()
    return [b for b in batch_composition(None if latest else as_of) if as_of is None or b.year <= as_of]


def published_province_counts(year: int) -> list[PublishedProvinceCount]:
    """How many counties each province received in `year`'s batch, as each source states it
    (2020: Sichuan 17), by province code: what is known of a batch whose roster is not."""
    return list(PublishedProvinceCount.objects.filter(year=year).select_related("province").order_by("province__code", "source", "pk"))


# The metric under which data/programme_facts.csv records the notices that followed the programme.
SUCCESSOR_METRIC = "successor notice"


def successor_notices() -> list[ProgrammeFact]:
    """The notices under which support continued after the last batch (商流通发〔2021〕99号,
    财办建〔2022〕18号): not batches of demonstration counties, so listed apart from them."""
    return list(ProgrammeFact.objects.filter(metric=SUCCESSOR_METRIC).order_by("period", "fact_id"))
