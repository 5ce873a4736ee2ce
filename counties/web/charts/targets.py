"""Server-drawn SVG charts for targets and results, in the style of `counties.web.charts`: each bar is a
year's value, coloured by its target status, with a <title> naming value, growth and status; the
page shows the same figures in a table beside it."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from counties.models import Indicator, local_name
from counties.reads import numbers
from counties.reads.statistics.targets import (
    BEFORE_BREAK,
    FROM_BREAK,
    MET,
    MISSED,
    NOT_APPLICABLE,
    NOT_REPORTED,
    POVERTY_COUNTIES,
    RURAL,
    STATUS_LABELS,
    IndicatorSeries,
    NationalPoint,
)
from counties.web import charts

STATUS_COLOURS = {MET: "#2e7d32", MISSED: "#c0392b", NOT_APPLICABLE: "#0b4f8a", NOT_REPORTED: "#9e9e9e"}


def indicator_name(indicator: Indicator) -> str:
    return local_name(indicator.name_zh, indicator.name_en)


def indicator_unit(indicator: Indicator) -> str:
    return local_name(indicator.unit_zh, indicator.unit_en)


def indicator_chart(series: IndicatorSeries) -> SafeString:
    """One bar per year; a year with no value is marked on the axis, never drawn as zero."""
    indicator = series.indicator
    values = [float(y.value) for y in series.years if y.value is not None]
    scale = charts.axis(max(values, default=0))
    top, left = scale.top, scale.left
    group = (charts.WIDTH - left - charts.RIGHT) / max(len(series.years), 1)
    parts = [scale.draw(charts.WIDTH)]
    baseline = charts.HEIGHT - charts.BOTTOM
    for i, year in enumerate(series.years):
        x = left + group * i + group * 0.2
        # As the table beside it writes the value: str() of a normalised 26000 is "2.6E+4".
        label = f"{year.year}: " + (year.display_value if year.value is not None else "—")
        if year.average_growth_pct is not None:
            # A growth rule judges the average since the base year, not the year on its own.
            label += " (" + _("%(pct)s%% a year since %(base)s") % {"pct": f"{year.average_growth_pct:+}", "base": year.base_year}
            if year.growth_pct is not None:
                label += "; " + _("%(pct)s%% on the year before") % {"pct": f"{year.growth_pct:+}"}
            label += ")"
        elif year.growth_pct is not None:
            label += f" ({year.growth_pct:+}%)"
        label += f" · {STATUS_LABELS[year.status]}"
        if year.value is None:
            parts.append(
                f'<text x="{x + group * 0.3:.1f}" y="{baseline - 4}" text-anchor="middle" font-size="14" '
                f'fill="{STATUS_COLOURS[year.status]}">×<title>{escape(label)}</title></text>'
            )
        else:
            y = charts.value_y(float(year.value), top)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{group * 0.6:.1f}" height="{baseline - y:.1f}" '
                f'fill="{STATUS_COLOURS[year.status]}"><title>{escape(label)}</title></rect>'
            )
        parts.append(charts.x_label(left + group * (i + 0.5), str(year.year)))
    statuses = [s for s in (MET, MISSED, NOT_REPORTED, NOT_APPLICABLE) if any(y.status == s for y in series.years)]
    parts.append(charts.legend([], [(str(STATUS_LABELS[s]), STATUS_COLOURS[s]) for s in statuses]))
    title = f"{indicator_name(indicator)} ({indicator_unit(indicator)})"
    description = _("Value reported each year, coloured by the target status of the year.")
    return charts.frame(title, str(description), "".join(parts))


def national_gaps(points: list[NationalPoint]) -> list[int]:
    """The years between a series' first and last figure that have none recorded here: where its
    line breaks, which the page says in words as well ("not recorded here", not "not published")."""
    by_series: dict[str, set[int]] = {}
    for point in points:
        by_series.setdefault(point.series, set()).add(point.year)
    return sorted({year for years in by_series.values() for year in range(min(years), max(years) + 1) if year not in years})


def national_chart(points: list[NationalPoint]) -> SafeString:
    # Every year on the axis, so a year without a published figure (2015, 2018) keeps its place.
    years = list(range(min(p.year for p in points), max(p.year for p in points) + 1)) if points else []
    by_series: dict[str, dict[int, Decimal]] = {}
    for point in points:
        key = f"{point.series}:{point.definition}" if point.definition else point.series
        by_series.setdefault(key, {})[point.year] = point.trillion_yuan
    before, after = f"{RURAL}:{BEFORE_BREAK}", f"{RURAL}:{FROM_BREAK}"
    return charts.line_chart(
        _("Online retail sales, trillion yuan"),
        _(
            "Rural online retail sales as published each year, in two lines: the definition changed in 2016 "
            "(service retail included from then), so 2014–2015 are not comparable with later years; and the "
            "832 poverty counties' online retail sales in 2020."
        ),
        [str(y) for y in years],
        [
            # Written as the table beside it writes them (0.895): the default, an axis label's two
            # decimals, wrote 0.9, 1.25 and 0.3. Two series for the rural figures, so no line joins
            # 2015 to 2016 across the change of definition.
            charts.Series(
                _("Rural, to 2015"),
                [by_series.get(before, {}).get(y) for y in years],
                charts.PALETTE[2],
                write=numbers.decimal,
            ),
            charts.Series(
                _("Rural, from 2016"),
                [by_series.get(after, {}).get(y) for y in years],
                write=numbers.decimal,
            ),
            charts.Series(
                _("832 poverty counties"),
                [by_series.get(POVERTY_COUNTIES, {}).get(y) for y in years],
                charts.PALETTE[1],
                write=numbers.decimal,
            ),
        ],
    )
