"""Small server-rendered SVG charts: no JavaScript, no third-party assets, readable without styles.

Each chart has a <title> and <desc> for screen readers, and the page shows the same numbers in a
table beside it, so the chart is never the only way to read a figure.

The charts are drawn for a phone first: a 400-unit-wide canvas with 13-unit text is shown about
340 px wide on a 375 px screen (text about 11 px) and no more than about 1.4 times larger on a
desktop (the stylesheet caps a chart's height). Every label is drawn: a chart with more labels than
fit is made wider, never thinned out.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from counties.models import local_name
from counties.reads import numbers
from counties.web import punctuation

WIDTH, HEIGHT = 400, 280
# LEFT is the narrowest left margin; a vertical axis widens it to fit its widest label (`Axis.left`).
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 24, 58
TICK_GAP, EDGE = 5, 4  # between a tick label and the plot; between the label and the canvas's edge
FONT = 13
LINE = 16  # height of a line of text (legend rows)
PALETTE = ("#0b4f8a", "#c0392b", "#6c757d", "#9ec3e6")
INK = "#333"


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | int | Decimal | None]
    color: str = PALETTE[0]
    # How a value is written in its tooltip, when the table beside the chart writes it otherwise
    # than a count or a percentage (the national series' 0.895, which the axis's two decimals
    # would write 0.9).
    write: Callable[[Any], str] | None = None

    def text(self, value: float | int | Decimal, percent: bool) -> str:
        return self.write(value) if self.write else _figure(value, percent)


def province_label(province: object) -> str:
    """The one name a province goes by in a chart (the statistics' province rows, or a Province):
    its short name in the page's language (新疆 / Xinjiang), never cut short."""
    return local_name(getattr(province, "short_name_zh", ""), getattr(province, "short_name_en", ""))


def text_width(text: str, size: float = FONT) -> float:
    """Estimated width of `text` in user units: a CJK character is one em, anything else about 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def _figure(value: float | int | Decimal, percent: bool) -> str:
    """A bar's or a point's own value, written as the tables beside the chart write it (a share
    with one decimal, 46.0, as counties.reads.numbers has it; a count grouped, 1,016). Any other
    figure names its writer (`Series.write`): money its column's scale, `MoneyScale.write`."""
    return numbers.share(value) if percent else numbers.tick(float(value))


def frame(title: str, description: str, body: str, width: float = WIDTH, height: float = HEIGHT) -> SafeString:
    """The <svg> around a chart's drawing, named by its <title> and <desc> for screen readers."""
    chart_id = f"chart-{zlib.crc32(title.encode()):08x}"
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet" font-size="{FONT}">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>{body}</svg>'
    )


@dataclass(frozen=True)
class Axis:
    """A vertical scale from 0 to `top` in four steps, with its tick labels; the plot starts at
    `left`, right of the widest label, so no label is cut at the canvas's edge (60,000 lost its 6
    behind a fixed margin)."""

    top: float
    labels: list[str]

    @property
    def left(self) -> float:
        widest = max((text_width(label) for label in self.labels), default=0)
        return max(float(LEFT), math.ceil(widest + TICK_GAP + EDGE))

    def draw(self, width: float, unit: str = "") -> str:
        """Horizontal grid lines with their labels, and the axis's unit above them."""
        parts = []
        if unit:
            parts.append(f'<text x="{EDGE}" y="{TOP - 10}" fill="{INK}">{escape(unit)}</text>')
        for i, label in enumerate(self.labels):
            y = HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * i / 4
            parts.append(f'<line x1="{self.left:.0f}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0" stroke-width="1"/>')
            parts.append(f'<text x="{self.left - TICK_GAP:.0f}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">{label}</text>')
        return "".join(parts)


def axis(maximum: float, percent: bool = False) -> Axis:
    """The vertical scale that holds `maximum` (0–100% for a percentage)."""
    top = 100.0 if percent else _nice(maximum)
    return Axis(top, [f"{top * i / 4:.0f}%" if percent else numbers.tick(top * i / 4) for i in range(5)])


def _nice(maximum: float) -> float:
    """The top of a scale: the smallest "round" number that holds `maximum` and splits into four
    round steps (1,016 → 1,200: steps of 300)."""
    if maximum <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(maximum))
    return next(step * magnitude for step in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10) if maximum <= step * magnitude * (1 + 1e-9))


def value_y(value: float, top: float) -> float:
    """Where `value` sits on a vertical scale from 0 to `top`."""
    return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value / top if top else 0)


def legend(series: list[Series], extra: list[tuple[str, str]] | None = None, *, y: float | None = None, width: float = WIDTH) -> str:
    """Colour keys below the plot, wrapped onto a second row when they do not fit on one."""
    items = [(s.label, s.color) for s in series] + (extra or [])
    x, row = float(LEFT), 0
    top = HEIGHT - BOTTOM + 38 if y is None else y
    parts = []
    for label, color in items:
        item_width = 14 + text_width(label) + 12
        if x > LEFT and x + item_width > width - RIGHT:
            x, row = LEFT, row + 1
        base = top + row * LINE
        parts.append(f'<rect x="{x:.1f}" y="{base - 10:.1f}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="{base:.1f}" fill="{INK}">{escape(label)}</text>')
        x += item_width
    return "".join(parts)


def x_label(x: float, label: str) -> str:
    """A category's name under the plot."""
    return f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="{INK}">{escape(label)}</text>'


def plot_width(labels: list[str], left: float = LEFT, minimum: float = WIDTH) -> float:
    """A canvas wide enough for every category label side by side right of `left` (at least `minimum`)."""
    widest = max((text_width(label) for label in labels), default=0)
    return max(minimum, left + RIGHT + len(labels) * (widest + 8))


def bar_chart(
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    *,
    percent: bool = False,
    unit: str = "",
    rules: list[float | Decimal | None] | None = None,
    rule_label: str = "",
) -> SafeString:
    """Grouped vertical bars. `rules`, one per label, draws a rule each category is held to (the
    poverty share of a batch, at least 50% from 2016) as a dashed line over the categories it
    applies to only: a line across 2014 and 2015 would hold those batches to a rule they never
    had. `unit` names the axis's unit once (e.g. 亿元), so the axis reads 50, not 5,000,000,000."""
    values = [float(v) for s in series for v in s.values if v is not None]
    scale = axis(max(values, default=0), percent)
    top, left = scale.top, scale.left
    width = plot_width(labels, left)
    group = (width - left - RIGHT) / max(len(labels), 1)
    bar = group * 0.7 / max(len(series), 1)
    parts = [scale.draw(width, unit)]
    for i, label in enumerate(labels):
        x0 = left + group * i + group * 0.15
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            y = value_y(float(value), top)
            parts.append(
                f'<rect x="{x0 + bar * j:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" height="{HEIGHT - BOTTOM - y:.1f}" fill="{s.color}">'
                f"<title>{escape(punctuation.labelled(f'{label} · {s.label}', s.text(value, percent)))}</title></rect>"
            )
        parts.append(x_label(left + group * (i + 0.5), label))
    extra = []
    spans = _runs(rules or [])
    for first, last, rule in spans:
        y = value_y(float(rule), top)
        x1, x2 = left + group * first, left + group * (last + 1)
        parts.append(
            f'<line class="rule" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#c0392b" stroke-width="2" stroke-dasharray="6 4"/>'
        )
    if spans:
        extra.append((rule_label, "#c0392b"))
    parts.append(legend(series, extra, width=width))
    return frame(title, description, "".join(parts), width)


def _runs(values: list[float | Decimal | None]) -> list[tuple[int, int, float | Decimal]]:
    """Consecutive equal values other than None, as (first index, last index, value): one line for
    the years a rule held unchanged, [None, None, 50, 50, None] → [(2, 3, 50)]."""
    runs: list[tuple[int, int, float | Decimal]] = []
    for i, value in enumerate(values):
        if value is None:
            continue
        if runs and runs[-1][1] == i - 1 and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], i, value)
        else:
            runs.append((i, i, value))
    return runs


def hbar_chart(title: str, description: str, labels: list[str], series: list[Series], *, unit: str = "", columns: int = 1) -> SafeString:
    """Horizontal bars, one row per label with the label in full on its left (for many long labels,
    such as provinces). The first series is the bar; a second is drawn inside it, narrower (a part
    of the whole, e.g. the poverty counties among the demonstration counties). The value of the
    first series is written at the end of its bar.

    With `columns=2` the rows are split into two charts on one scale, the first half and the rest,
    in a `chart-columns` block: side by side on a wide screen (one tall chart used half of it),
    one under the other on a phone, where they read as one list."""
    label_width = max((text_width(label) for label in labels), default=0) + 8
    values = [float(v) for s in series for v in s.values if v is not None]
    top = _nice(max(values, default=0))
    if columns == 1 or len(labels) < 2:
        return _hbars(title, description, labels, series, unit=unit, top=top, label_width=label_width)
    half = math.ceil(len(labels) / 2)
    drawn = [
        _hbars(
            f"{title}{punctuation.bracketed(f'{part}/2')}",
            description,
            labels[start:stop],
            [Series(s.label, s.values[start:stop], s.color, s.write) for s in series],
            unit=unit,
            top=top,
            label_width=label_width,
        )
        for part, (start, stop) in enumerate(((0, half), (half, len(labels))), start=1)
    ]
    return mark_safe(f'<div class="chart-columns">{drawn[0]}{drawn[1]}</div>')


def _hbars(
    title: str, description: str, labels: list[str], series: list[Series], *, unit: str, top: float, label_width: float
) -> SafeString:
    row, bar = 22, 14
    width = max(WIDTH, label_width + 240)
    left, right = label_width, 36
    plot = width - left - right
    height = TOP + row * len(labels) + 24 + LINE * 2
    parts = []
    if unit:
        parts.append(f'<text x="{left}" y="{TOP - 10}" fill="{INK}">{escape(unit)}</text>')
    for i in range(5):
        x = left + plot * i / 4
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + row * len(labels)}" stroke="#d0d0d0" stroke-width="1"/>')
        tick = numbers.tick(top * i / 4)
        parts.append(f'<text x="{x:.1f}" y="{TOP + row * len(labels) + 14}" text-anchor="middle" fill="{INK}">{tick}</text>')
    for i, label in enumerate(labels):
        y = TOP + row * i + (row - bar) / 2
        parts.append(f'<text x="{left - 6}" y="{y + bar - 3:.1f}" text-anchor="end" fill="{INK}">{escape(label)}</text>')
        for j, s in enumerate(series[:2]):
            value = s.values[i]
            if value is None:
                continue
            length = plot * float(value) / top if top else 0
            inset = 0 if j == 0 else bar / 4
            figure = escape(numbers.tick(float(value)))
            parts.append(
                f'<rect x="{left}" y="{y + inset:.1f}" width="{length:.1f}" height="{bar - 2 * inset:.1f}" fill="{s.color}">'
                f"<title>{escape(punctuation.labelled(f'{label} · {s.label}', numbers.tick(float(value))))}</title></rect>"
            )
            if j == 0:
                parts.append(f'<text x="{left + length + 4:.1f}" y="{y + bar - 3:.1f}" fill="{INK}">{figure}</text>')
    parts.append(legend(series[:2], y=height - LINE - 4, width=width))
    return frame(title, description, "".join(parts), width, height)


def _stretches(indices: list[int]) -> list[list[int]]:
    """Ascending indices split where they skip: [0, 2, 3, 5, 6, 7] → [[0], [2, 3], [5, 6, 7]]."""
    stretches: list[list[int]] = []
    for i in indices:
        if stretches and stretches[-1][-1] == i - 1:
            stretches[-1].append(i)
        else:
            stretches.append([i])
    return stretches


def line_chart(
    title: str, description: str, labels: list[str], series: list[Series], *, percent: bool = False, unit: str = ""
) -> SafeString:
    """A line per series over the labels, a point per value; a series is broken where it has no
    value (None), never drawn straight across the gap."""
    values = [float(v) for s in series for v in s.values if v is not None]
    scale = axis(max(values, default=0), percent)
    top, left = scale.top, scale.left
    width = plot_width(labels, left)
    # Points sit in the middle of equal slots, as bars do, so the first and last labels fit.
    step = (width - left - RIGHT) / max(len(labels), 1)
    parts = [scale.draw(width, unit)]
    for i, label in enumerate(labels):
        parts.append(x_label(left + step * (i + 0.5), label))
    for s in series:
        points = {i: (left + step * (i + 0.5), value_y(float(v), top), v) for i, v in enumerate(s.values) if v is not None}
        # One line per run of consecutive values: a line drawn across a label without a value
        # (a year nothing was published for) would show a value that does not exist. A value
        # alone between two gaps is its point only.
        for run in _stretches(list(points)):
            if len(run) > 1:
                path = " ".join(f"{points[i][0]:.1f},{points[i][1]:.1f}" for i in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2.5"/>')
        for i, (x, y, value) in points.items():
            # The point names its label (its year), as a bar's tooltip does: a value alone does
            # not say which year it is.
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{s.color}">'
                f"<title>{escape(punctuation.labelled(f'{labels[i]} · {s.label}', s.text(value, percent)))}</title></circle>"
            )
    parts.append(legend(series, width=width))
    return frame(title, description, "".join(parts), width)
