"""Funding totals, in yuan: allocations by fiscal year, province, level and source kind, all or up to a year."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from counties.models import FundingAllocation
from counties.reads.numbers import yuan
from counties.reads.statistics.cache import cached
from counties.reads.statistics.rows import ILLUSTRATIVE


@dataclass(frozen=True)
class FundingTotal:
    key: str
    total_yuan: Decimal
    allocations: int
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FundingTotals:
    total_yuan: Decimal
    by_year: list[FundingTotal] = field(default_factory=list)
    by_province: list[FundingTotal] = field(default_factory=list)
    by_level: list[FundingTotal] = field(default_factory=list)
    by_source_kind: list[FundingTotal] = field(default_factory=list)
    includes_illustrative: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@cached
def funding_totals(as_of: int | None = None) -> FundingTotals:
    """Funding allocations of fiscal years up to `as_of` (all when None), in yuan, by fiscal year,
    province (code), level and source kind."""
    allocations = FundingAllocation.objects.all() if as_of is None else FundingAllocation.objects.filter(fiscal_year__lte=as_of)

    def grouped(field_name: str) -> list[FundingTotal]:
        rows = (
            allocations.values(field_name)
            .annotate(total=Sum("amount"), n=Count("pk"), illustrative=Count("pk", filter=ILLUSTRATIVE))
            .order_by(field_name)
        )
        return [FundingTotal(str(r[field_name]), yuan(r["total"]), r["n"], r["illustrative"] > 0) for r in rows]

    by_year = grouped("fiscal_year")
    return FundingTotals(
        total_yuan=yuan(sum(t.total_yuan for t in by_year)),
        by_year=by_year,
        by_province=grouped("unit__province__code"),
        by_level=grouped("level"),
        by_source_kind=grouped("source_kind"),
        includes_illustrative=any(t.includes_illustrative for t in by_year),
    )
