"""Numbers and money, the one home of how they are rounded and written: the statistics round
here, and the pages, the charts and the template tags write here, so a figure reads the same
everywhere (1,016 on the home page as in the statistics' chart and table).

Rounding (the values the statistics keep, as Decimals; the API and the exports give them as
they are: 1016, "88.6", "18500000.00"):

- Halves are rounded up, everywhere: 737/832 = 88.581 → 88.6, 88.55 → 88.6, 0.125 → 0.13.
- A share or a percentage has one decimal, worked out on the exact ratio (`percentage`).
- An amount of money is in yuan with two decimals (`yuan`).

Writing (for people reading, in both languages):

- A count is grouped in thousands with commas from 1,000 (1,016; 832), in Chinese as in English:
  it is how the ministry's own tables write it, and the money columns (1,850 万元) already did.
- A figure that is neither (the national series' trillion yuan) keeps the decimals its statistic
  rounded it to: 0.895, never 0.9.
- A percentage has one decimal, as the statistics define it (88.6%, 100.0%, 46.0%): a share
  of 46% next to one of 65.8% reads as a different precision. A rule's threshold is written as it
  is set (≥ 50%, at least 30% a year): it is not a statistic.
- Money is written in 亿元 from 1 亿, in 万元 from 1 万, else in 元 on Chinese pages, and in billion,
  million or yuan on English ones, with at most two decimals (37 亿元, 1,850 万元; 3.7 billion yuan).
  A column or an axis has one unit, chosen by its largest amount (`money_scale`).
- A year, a division code and a page number in a link never go through these: they are names,
  not amounts (2,018 or 130,705 would be wrong), and Django's own localisation, which would group
  every number on a page, is left off for that reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language

# -- rounding -------------------------------------------------------------------------------------


def rounded(value: Decimal, places: int) -> Decimal:
    """`value` to `places` decimals, halves up: rounded(Decimal("88.55"), 1) → 88.6; rounded(Decimal("0.89454"), 3) → 0.895."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percentage(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole × 100 to one decimal, halves up (737/832 → 88.6); None without a whole."""
    if not whole:
        return None
    return rounded(Decimal(part) * 100 / Decimal(whole), 1)


def yuan(value: Decimal | int | None) -> Decimal:
    """An amount in yuan with two decimals, halves up; none is 0.00 (SQLite's SUM drops the
    decimals, and an empty sum is None)."""
    return rounded(Decimal(value or 0), 2)


# -- writing --------------------------------------------------------------------------------------


def count(value: int | Decimal | None, missing: str = "—") -> str:
    """1016 → '1,016'; 832 → '832'; a whole Decimal as its integer (1200.0000 → '1,200'); None → `missing`."""
    if value is None:
        return missing
    if isinstance(value, Decimal):
        return decimal(value)
    return f"{value:,}"


def decimal(value: Decimal | int | None, missing: str = "—") -> str:
    """A figure with the decimals its statistic keeps, no trailing zeros, grouped like a count:
    Decimal('0.895') → '0.895', Decimal('1.700') → '1.7' (the national series in trillion yuan,
    rounded to three decimals where it is read). Never rounded again here: written to fewer
    decimals, 0.895 read 0.9 in the chart beside a table that says 0.895."""
    if value is None:
        return missing
    # normalize() alone writes 10 as 1E+1; the ",f" format writes it out in full.
    return f"{Decimal(value).normalize():,f}"


def stored(value: Decimal, places: int | None) -> str:
    """A decimal as its field stores it, with the field's decimal places, grouped: a change in the
    history shows what was written (Decimal('1200.5'), 2 places → '1,200.50')."""
    return f"{value:,.{places}f}" if places is not None else f"{value:,}"


def tick(value: float) -> str:
    """A chart axis's tick or a plain chart figure: 1,200, 12.5, 0.25 (two decimals at most, no
    trailing zeros): an axis divides its top value into quarters."""
    if value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def share(value: Decimal | float | int | None) -> str:
    """A percentage's number, one decimal, halves rounded up as the statistics round them: 46 → '46.0'."""
    if value is None:
        return "—"
    return f"{rounded(Decimal(str(value)), 1):,f}"


def percent(value: Decimal | float | int | None) -> str:
    """88.6 → '88.6%'; 100 → '100.0%'; None → '—'."""
    return "—" if value is None else f"{share(value)}%"


@dataclass(frozen=True)
class MoneyScale:
    """The unit a column, a chart axis or a single figure of money is shown in (亿元, 万元 or 元 in
    Chinese; billion yuan, million yuan or yuan in English); `str()` is the unit's name."""

    divisor: Decimal
    name: str

    def __str__(self) -> str:
        return self.name

    def of(self, value: Decimal | int | float) -> Decimal:
        """The amount in this unit, unrounded (what a chart plots): 18500000 in 万元 → 1850."""
        return Decimal(value) / self.divisor

    def write(self, amount: Decimal) -> str:
        """An amount already in this unit, with at most two decimals and no trailing zeros: 37,
        3.7, 1,850; one too small to show is '< 0.01', never 0."""
        shown = rounded(amount, 2)
        if shown == 0 and amount:
            return "< 0.01"
        return decimal(shown)

    def number(self, value: Decimal | int | float) -> str:
        """An amount in yuan, written in this unit: 3700000000 in 亿元 → '37'."""
        return self.write(self.of(value))


YI = Decimal(100_000_000)
WAN = Decimal(10_000)
# Largest first; English counts in thousands (million, billion), Chinese in 万 and 亿.
ZH_SCALES = (MoneyScale(YI, "亿元"), MoneyScale(WAN, "万元"), MoneyScale(Decimal(1), "元"))
EN_SCALES = (MoneyScale(Decimal(10**9), "billion yuan"), MoneyScale(Decimal(10**6), "million yuan"), MoneyScale(Decimal(1), "yuan"))


def money_scale(amounts: Iterable[Decimal | int | float | None]) -> MoneyScale:
    """One unit for a set of amounts (a table column, a chart axis), chosen by the largest: 亿元 from
    1 亿, 万元 from 1 万 (billion or million yuan in English), so the whole column reads in one unit."""
    largest = max((abs(Decimal(a)) for a in amounts if a is not None), default=Decimal(0))
    scales = ZH_SCALES if (get_language() or "zh-hans").startswith("zh") else EN_SCALES
    return next((scale for scale in scales if largest >= scale.divisor), scales[-1])


def money(value: Decimal | int | None, scale: MoneyScale | None = None) -> str:
    """Money as people read it. Alone, with its own unit: 3700000000 → '37 亿元' (zh) or '3.7 billion
    yuan' (en); 18500000 → '1,850 万元' / '18.5 million yuan'. With the scale of its column, the
    number only, in the unit its header names once. None → '—'."""
    if value is None:
        return "—"
    if scale is not None:
        return scale.number(value)
    unit = money_scale([value])
    return f"{unit.number(value)} {unit}"
