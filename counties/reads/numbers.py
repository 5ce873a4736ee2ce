"""How the public pages write a number: one rule for both languages, so that a figure reads the
same on every page (the home page said 1016 where the statistics' chart said 1,016).

- A count is grouped in thousands with commas from 1,000 (1,016; 832), in Chinese as in English:
  it is how the ministry's own tables write it, and the money columns (1,850 万元) already did.
- A figure that is neither (the national series' trillion yuan) keeps the decimals its statistic
  rounded it to: 0.895, never 0.9.
- A percentage has one decimal, as the statistics define it (88.6%, 100.0%, 46.0%): a share
  of 46% next to one of 65.8% reads as a different precision. A rule's threshold is written as it
  is set (≥ 50%, at least 30% a year): it is not a statistic.
- A year, a division code and a page number in a link never go through these: they are names,
  not amounts (2,018 or 130,705 would be wrong), and Django's own localisation, which would group
  every number on a page, is left off for that reason.

The API and the exports give the plain numbers (1016, "88.6"): these are for people reading.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE_DECIMAL = Decimal("0.1")


def count(value: int | Decimal | None, missing: str = "—") -> str:
    """1016 → '1,016'; 832 → '832'; a whole Decimal as its integer (1200.0000 → '1,200'); None → `missing`."""
    if value is None:
        return missing
    if isinstance(value, Decimal):
        # normalize() alone writes 1200 as 1.2E+3; the ",f" format writes it out in full.
        return f"{value.normalize():,f}"
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


def share(value: Decimal | float | int | None) -> str:
    """A percentage's number, one decimal, halves rounded up as the statistics round them: 46 → '46.0'."""
    if value is None:
        return "—"
    return f"{Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP):,f}"


def percent(value: Decimal | float | int | None) -> str:
    """88.6 → '88.6%'; 100 → '100.0%'; None → '—'."""
    return "—" if value is None else f"{share(value)}%"
