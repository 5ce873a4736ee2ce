"""Small server-rendered SVG charts: no JavaScript, no third-party assets, readable without styles.

Each chart has a <title> and <desc> for screen readers, and the page shows the same numbers in a
table beside it, so the chart is never the only way to read a figure.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
PALETTE = ("#0b4f8a", "#c0392b", "#6c757d")


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | int | Decimal | None]
    color: str = PALETTE[0]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _frame(title: str, description: str, body: str) -> SafeString:
    chart_id = f"chart-{zlib.crc32(title.encode()):08x}"
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>{body}</svg>'
    )


def _axis(maximum: float, percent: bool = False) -> tuple[str, float]:
    """Horizontal grid lines with labels; returns the markup and the top of the scale."""
    top = 100.0 if percent else _nice(maximum)
    parts = []
    for i in range(5):
        value = top * i / 4
        y = HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * i / 4
        label = f"{value:.0f}%" if percent else _fmt(value)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#333">{label}</text>')
    return "".join(parts), top


def _nice(maximum: float) -> float:
    if maximum <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(maximum))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if maximum <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _y(value: float, top: float) -> float:
    return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value / top if top else 0)


def _legend(series: list[Series], extra: list[tuple[str, str]] | None = None) -> str:
    items = [(s.label, s.color) for s in series] + (extra or [])
    x = LEFT
    parts = []
    for label, color in items:
        parts.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x + 14}" y="{HEIGHT - 5}" font-size="11" fill="#333">{escape(label)}</text>')
        x += 24 + 7 * len(label) + 6 * sum(1 for ch in label if ord(ch) > 0x2E80)
    return "".join(parts)


def bar_chart(
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    *,
    percent: bool = False,
    rule: float | None = None,
    rule_label: str = "",
) -> SafeString:
    """Grouped vertical bars; an optional horizontal rule (e.g. the 50% poverty-share rule)."""
    values = [float(v) for s in series for v in s.values if v is not None]
    grid, top = _axis(max(values, default=0), percent)
    plot_width = WIDTH - LEFT - RIGHT
    group = plot_width / max(len(labels), 1)
    bar = group * 0.7 / max(len(series), 1)
    parts = [grid]
    for i, label in enumerate(labels):
        x0 = LEFT + group * i + group * 0.15
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            y = _y(float(value), top)
            parts.append(
                f'<rect x="{x0 + bar * j:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" height="{HEIGHT - BOTTOM - y:.1f}" fill="{s.color}">'
                f"<title>{escape(label)} · {escape(s.label)}: {escape(str(value))}</title></rect>"
            )
        if len(labels) <= 12 or i % 2 == 0:
            parts.append(
                f'<text x="{LEFT + group * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" font-size="11" '
                f'fill="#333">{escape(label)}</text>'
            )
    extra = []
    if rule is not None:
        y = _y(rule, top)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c0392b" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        extra.append((rule_label, "#c0392b"))
    parts.append(_legend(series, extra))
    return _frame(title, description, "".join(parts))


def line_chart(title: str, description: str, labels: list[str], series: list[Series], *, percent: bool = False) -> SafeString:
    values = [float(v) for s in series for v in s.values if v is not None]
    grid, top = _axis(max(values, default=0), percent)
    step = (WIDTH - LEFT - RIGHT) / max(len(labels) - 1, 1)
    parts = [grid]
    for i, label in enumerate(labels):
        x = LEFT + step * i
        y = HEIGHT - BOTTOM + 14
        parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="11" fill="#333">{escape(label)}</text>')
    for s in series:
        points = [(LEFT + step * i, _y(float(v), top)) for i, v in enumerate(s.values) if v is not None]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2.5"/>')
        for (x, y), v in zip(points, [v for v in s.values if v is not None], strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{s.color}"><title>{escape(s.label)}: {escape(str(v))}</title></circle>'
            )
    parts.append(_legend(series))
    return _frame(title, description, "".join(parts))
