"""Display helpers: how numbers and money are rounded and written (counties.reads.numbers: 万元/亿元,
million/billion yuan, one unit per column), and the server-drawn charts' scales and labels."""

import math
import re
from decimal import Decimal
from html import unescape

import pytest
from django.utils import translation

from counties.reads import numbers
from counties.reads.numbers import money_scale
from counties.web import charts
from counties.web.templatetags.registry import yuan


@pytest.mark.parametrize(
    ("language", "amount", "shown"),
    [
        ("zh-hans", Decimal("3700000000.00"), "37 亿元"),
        ("zh-hans", Decimal("148000000.00"), "1.48 亿元"),
        ("zh-hans", Decimal("18500000.00"), "1,850 万元"),
        ("zh-hans", Decimal("1500.00"), "1,500 元"),
        ("zh-hans", Decimal("0.00"), "0 元"),
        ("en", Decimal("3700000000.00"), "3.7 billion yuan"),
        ("en", Decimal("18500000.00"), "18.5 million yuan"),
        ("en", Decimal("74000000"), "74 million yuan"),
        ("en", None, "—"),
    ],
)
def test_an_amount_alone_carries_its_own_unit_without_trailing_zeros(language, amount, shown):
    with translation.override(language):
        assert yuan(amount) == shown


def test_a_column_reads_in_one_unit():
    amounts = [Decimal(0), Decimal(74_000_000), Decimal(148_000_000), Decimal(1)]
    with translation.override("zh-hans"):
        scale = money_scale(amounts)
        assert str(scale) == "亿元"
        assert [yuan(a, scale) for a in amounts] == ["0", "0.74", "1.48", "< 0.01"]
    with translation.override("en"):
        scale = money_scale(amounts)
        assert str(scale) == "million yuan"
        assert [yuan(a, scale) for a in amounts] == ["0", "74", "148", "< 0.01"]
        assert yuan(None, scale) == "—"


@pytest.mark.parametrize(("maximum", "top"), [(1016, 1200), (89, 100), (737, 800), (37, 40), (0.5, 0.5), (5, 5), (0, 1)])
def test_scales_end_on_a_round_number_close_above_the_largest_value(maximum, top):
    assert charts._nice(maximum) == pytest.approx(top)


def test_every_label_is_drawn_and_the_axis_names_its_unit():
    labels = [f"20{n:02d}" for n in range(30)]
    svg = charts.bar_chart("t", "d", labels, [charts.Series("s", list(range(30)))], unit="亿元")
    assert all(f">{label}</text>" in svg for label in labels)  # none dropped: the chart widens instead
    assert ">亿元</text>" in svg
    names = ["新疆维吾尔自治区", "广西壮族自治区", "宁夏回族自治区"]
    svg = charts.hbar_chart("t", "d", names, [charts.Series("s", [3, 2, 1])])
    assert all(f">{name}</text>" in svg for name in names)  # in full, never cut to 新疆维


def test_a_rule_is_drawn_over_the_categories_it_applies_to_only():
    labels = ["2014", "2015", "2016", "2017", "2019", "2021"]
    rules = [None, None, Decimal(50), Decimal(50), Decimal(60), None]
    svg = charts.bar_chart("t", "d", labels, [charts.Series("s", [20, 40, 60, 80, 70, 10])], percent=True, rules=rules, rule_label="rule")
    group = (charts.WIDTH - charts.LEFT - charts.RIGHT) / len(labels)
    y50, y60 = charts.value_y(50, 100), charts.value_y(60, 100)
    assert re.findall(r'<line class="rule" x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)"', svg) == [
        (f"{charts.LEFT + 2 * group:.1f}", f"{charts.LEFT + 4 * group:.1f}", f"{y50:.1f}"),  # 2016–2017 at 50%
        (f"{charts.LEFT + 4 * group:.1f}", f"{charts.LEFT + 5 * group:.1f}", f"{y60:.1f}"),  # 2019 at 60%
    ]
    assert ">rule</text>" in svg
    unruled = charts.bar_chart("t", "d", labels[:2], [charts.Series("s", [20, 40])], percent=True, rules=[None, None], rule_label="rule")
    assert 'class="rule"' not in unruled and ">rule</text>" not in unruled


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1016, "1,016"), (832, "832"), (0, "0"), (12345678, "12,345,678"), (Decimal("1200.0000"), "1,200"), (None, "—")],
)
def test_a_count_is_grouped_in_thousands_in_both_languages(value, shown):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert numbers.count(value) == shown
    assert numbers.count(None, "?") == "?"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("88.6"), "88.6%"),
        (Decimal("46"), "46.0%"),
        (100, "100.0%"),
        (Decimal("88.55"), "88.6%"),  # halves up, as the statistics round
        (Decimal("-12.5"), "-12.5%"),
        (None, "—"),
    ],
)
def test_a_percentage_has_one_decimal(value, shown):
    assert numbers.percent(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0.895"), "0.895"),  # not 0.9 (one decimal) nor 0.9 (the axis's two, 0.90)
        (Decimal("1.245"), "1.245"),
        (Decimal("1.700"), "1.7"),
        (Decimal("10.000"), "10"),  # not 1E+1
        (Decimal("1234.5"), "1,234.5"),
        (None, "—"),
    ],
)
def test_a_figure_keeps_the_decimals_its_statistic_gave_it(value, shown):
    assert numbers.decimal(value) == shown


def test_a_series_writes_its_values_as_its_table_does(english):
    values = [Decimal("0.895"), Decimal("1.245"), Decimal("0.301")]
    svg = charts.line_chart("t", "d", ["2016", "2017", "2020"], [charts.Series("s", values, write=numbers.decimal)])
    assert re.findall(r"<title>(\d+ · s: [^<]+)</title>", svg) == ["2016 · s: 0.895", "2017 · s: 1.245", "2020 · s: 0.301"]
    # Without a writer, a count or a percentage as before.
    assert "<title>2016 · s: 1,016</title>" in charts.line_chart("t", "d", ["2016"], [charts.Series("s", [1016])])
    assert "<title>2016 · s: 46.0</title>" in charts.bar_chart("t", "d", ["2016"], [charts.Series("s", [46])], percent=True)
    with translation.override("zh-hans"):  # a Chinese page's full-width colon
        assert "<title>2016 · s：1,016</title>" in charts.line_chart("t", "d", ["2016"], [charts.Series("s", [1016])])


def test_a_line_breaks_where_its_series_has_no_value():
    labels = [str(year) for year in range(2014, 2022)]
    values = [1, None, 3, 4, None, 6, 7, 8]  # nothing for 2015 and 2018
    svg = charts.line_chart("t", "d", labels, [charts.Series("s", values)])
    step = (charts.WIDTH - charts.LEFT - charts.RIGHT) / len(labels)
    xs = [[float(point.split(",")[0]) for point in line.split()] for line in re.findall(r'<polyline points="([^"]+)"', svg)]
    # 2016–2017 and 2019–2021; 2014, alone between the start and a gap, is its point only.
    assert xs == [[pytest.approx(charts.LEFT + step * (i + 0.5), abs=0.06) for i in run] for run in ([2, 3], [5, 6, 7])]
    assert svg.count("<circle ") == 6
    assert charts._stretches([0, 2, 3, 5, 6, 7]) == [[0], [2, 3], [5, 6, 7]]


def test_province_label_is_one_function_for_both_languages():
    class Row:
        short_name_zh, short_name_en = "新疆", "Xinjiang"

    with translation.override("zh-hans"):
        assert charts.province_label(Row()) == "新疆"
    with translation.override("en"):
        assert charts.province_label(Row()) == "Xinjiang"


# -- the one home of rounding and money: counties.reads.numbers, called directly ------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("88.55"), 1, "88.6"),
        (Decimal("88.549"), 1, "88.5"),
        (Decimal("0.125"), 2, "0.13"),  # half up, not to the even 0.12
        (Decimal("0.89454"), 3, "0.895"),
        (Decimal("-12.45"), 1, "-12.5"),  # away from zero, as the growth of a fall is rounded
        (Decimal("46"), 1, "46.0"),
    ],
)
def test_the_statistics_round_halves_up(value, places, expected):
    assert str(numbers.rounded(value, places)) == expected


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (737, 832, "88.6"),  # 88.58...
        (832, 832, "100.0"),
        (0, 832, "0.0"),
        (1, 16, "6.3"),  # 6.25, half up
        (1, 3, "33.3"),
        (Decimal("2.5"), Decimal("4"), "62.5"),  # villages covered over villages, as reported
    ],
)
def test_a_percentage_is_worked_out_on_the_exact_ratio_to_one_decimal(part, whole, expected):
    assert str(numbers.percentage(part, whole)) == expected


def test_a_percentage_of_nothing_is_not_recorded():
    assert numbers.percentage(0, 0) is None
    assert numbers.percentage(5, Decimal(0)) is None
    assert numbers.share(None) == "—" and numbers.percent(None) == "—"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (None, "0.00"),  # an empty sum
        (0, "0.00"),
        (18_500_000, "18500000.00"),  # SQLite's SUM drops the decimals
        (Decimal("3600000000") / 240, "15000000.00"),
        (Decimal("0.125"), "0.13"),
        (Decimal("1000000000") / 3, "333333333.33"),
    ],
)
def test_an_amount_is_in_yuan_with_two_decimals(amount, expected):
    assert str(numbers.yuan(amount)) == expected


@pytest.mark.parametrize(
    ("language", "largest", "unit"),
    [
        ("zh-hans", 99_999_999, "万元"),
        ("zh-hans", 100_000_000, "亿元"),
        ("zh-hans", 9_999, "元"),
        ("zh-hans", 10_000, "万元"),
        ("zh-hans", -200_000_000, "亿元"),  # by size, whatever the sign
        ("en", 999_999_999, "million yuan"),
        ("en", 1_000_000_000, "billion yuan"),
        ("en", 999_999, "yuan"),
        ("en", 1_000_000, "million yuan"),
    ],
)
def test_the_unit_is_chosen_by_the_largest_amount(language, largest, unit):
    with translation.override(language):
        assert str(numbers.money_scale([None, 1, Decimal(largest)])) == unit


def test_a_column_of_no_amounts_reads_in_yuan():
    with translation.override("zh-hans"):
        assert str(numbers.money_scale([])) == str(numbers.money_scale([None])) == "元"
    with translation.override("en"):
        assert str(numbers.money_scale([None])) == "yuan"


@pytest.mark.parametrize(
    ("language", "amount", "shown"),
    [
        ("zh-hans", 1_234_250, "123.43 万元"),  # 123.425, half up
        ("zh-hans", 1_234_500, "123.45 万元"),
        ("zh-hans", 99_990_000, "9,999 万元"),
        ("en", 1_250_000, "1.25 million yuan"),
        ("en", Decimal("1234.565"), "1,234.57 yuan"),
        ("zh-hans", None, "—"),
    ],
)
def test_money_alone_is_written_in_its_own_unit(language, amount, shown):
    with translation.override(language):
        assert numbers.money(amount) == shown


def test_money_in_a_column_too_small_to_show_is_never_zero():
    with translation.override("zh-hans"):
        scale = numbers.money_scale([Decimal(300_000_000)])
        assert numbers.money(Decimal(5_000), scale) == "< 0.01"
        assert numbers.money(Decimal(0), scale) == "0"
        assert numbers.money(None, scale) == "—"
        assert scale.write(Decimal("1850")) == "1,850" and scale.write(Decimal("0.004")) == "< 0.01"


def test_a_money_chart_writes_each_amount_as_its_table_does():
    amounts = [Decimal(123_500_000), Decimal(5_000), Decimal(2_000_000_000)]
    with translation.override("zh-hans"):
        scale = numbers.money_scale(amounts)
        svg = charts.bar_chart("t", "d", ["2016", "2017", "2018"], [charts.Series("s", [scale.of(a) for a in amounts], write=scale.write)])
        tooltips = [unescape(text) for text in re.findall(r"<title>\d+ · s：([^<]+)</title>", svg)]
        assert tooltips == [yuan(a, scale) for a in amounts] == ["1.24", "< 0.01", "20"]


@pytest.mark.parametrize(("value", "shown"), [(1200.0, "1,200"), (12.5, "12.5"), (0.25, "0.25"), (1 / 3, "0.33"), (0.0, "0")])
def test_an_axis_tick_has_at_most_two_decimals_and_no_trailing_zeros(value, shown):
    assert numbers.tick(value) == shown


@pytest.mark.parametrize(
    ("value", "places", "shown"), [(Decimal("1200.5"), 2, "1,200.50"), (Decimal("3"), 4, "3.0000"), (Decimal("0.125"), None, "0.125")]
)
def test_a_stored_decimal_is_written_with_its_fields_places(value, places, shown):
    assert numbers.stored(value, places) == shown


@pytest.mark.parametrize("maximum", [52_000, 900_000, 7_500_000])
def test_the_vertical_axis_makes_room_for_its_widest_label(maximum):
    """The plot starts right of the widest tick label: behind a fixed margin, "60,000" lost its 6."""
    svg = charts.bar_chart("t", "d", ["2014", "2015"], [charts.Series("s", [maximum / 2, maximum])])
    ticks = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end" fill="#333">([\d,]+)</text>', svg)
    assert len(ticks) == 5
    for x, label in ticks:
        assert float(x) - charts.text_width(label) >= charts.EDGE  # the whole label is on the canvas
    widest = max(charts.text_width(label) for _x, label in ticks)
    assert re.search(r'<line x1="(\d+)"', svg)[1] == str(math.ceil(widest + charts.TICK_GAP + charts.EDGE))


def test_a_long_list_of_bars_is_drawn_in_two_charts_on_one_scale(english):
    names = [f"省{i}" for i in range(31)]
    values = list(range(31, 0, -1))
    drawn = str(charts.hbar_chart("t", "d", names, [charts.Series("s", values)], columns=2))
    first, second = drawn.split("</svg>")[:2]
    assert drawn.startswith('<div class="chart-columns"><svg') and drawn.count("<svg") == 2
    assert all(f">{name}</text>" in first for name in names[:16]) and all(f">{name}</text>" in second for name in names[16:])
    ticks = [re.findall(r'text-anchor="middle" fill="#333">([\d,]+)</text>', half) for half in (first, second)]
    assert ticks[0] == ticks[1] == ["0", "10", "20", "30", "40"]  # one scale: a bar is as long in either chart
    assert "<title" in first and "(1/2)" in first and "(2/2)" in second
