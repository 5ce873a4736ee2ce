"""The public pages: each page and filter, old codes, errors, language, downloads, sitemap, query counts."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from counties import models
from counties.caching.token import mark_data_changed

from .conftest import cells

pytestmark = pytest.mark.django_db


def html(response):
    return response.content.decode()


def test_home_shows_headline_figures_and_flags_illustrative_data(client, django_assert_max_num_queries, django_assert_num_queries):
    # With an empty cache: the data token, read once for the whole request by the response cache
    # (counties.caching.responses); the latest batch year (aggregate); the programme's rows (designations,
    # poverty counties, successions), loaded once for coverage at that year and at 2018 and the
    # batch composition, which adds the outcomes of the designations, the funds their lifecycle
    # records return, central allocations and batches.
    with django_assert_num_queries(1 + 1 + 3 + 4):
        response = client.get("/")
    with django_assert_num_queries(1):  # then the page itself comes from the response cache: only the token
        client.get("/")
    assert response.status_code == 200
    page = html(response)
    assert '<html lang="zh-hans">' in page
    assert "电子商务进农村综合示范" in page
    assert "1,146" in page  # the illustrative designations are announced with their number
    assert "737" in page and "88.6" in page  # end-2018 headline
    assert "2021 年批次仅部分已知" in page  # the latest batch is incomplete and says so


def test_english_version(client):
    page = html(client.get("/en/"))
    assert '<html lang="en">' in page
    assert "E-commerce in Rural Areas Comprehensive Demonstration" in page
    # Each alternate names the page in its own language (both used to give the current URL).
    assert '<link rel="alternate" hreflang="zh-hans" href="http://testserver/">' in page
    assert '<link rel="alternate" hreflang="en" href="http://testserver/en/">' in page


@pytest.mark.parametrize(
    ("path", "other"),
    [
        ("/statistics/?as_of=2018", '<a href="/en/statistics/?as_of=2018" hreflang="en" lang="en">English</a>'),
        ("/en/statistics/?as_of=2018", '<a href="/statistics/?as_of=2018" hreflang="zh-hans" lang="zh-hans">简体中文</a>'),
        ("/en/counties/130705/", '<a href="/counties/130705/" hreflang="zh-hans" lang="zh-hans">简体中文</a>'),
        ("/en/no-such-page/", '<a href="/no-such-page/" hreflang="zh-hans" lang="zh-hans">简体中文</a>'),
    ],
)
def test_language_switch_links_to_this_page_in_the_other_language(client, path, other):
    """Plain links both ways (no form, no CSRF token), keeping the query string, even on a 404 page."""
    page = html(client.get(path))
    assert other in page
    assert "csrfmiddlewaretoken" not in page


def test_county_list_defaults_to_demonstration_counties(client):
    response = client.get("/counties/")
    assert response.status_code == 200
    # Worked out from the designations: the distinct units designated (withdrawn ones excluded)
    # and the distinct units they have become (no succession is later than the latest batch).
    units = models.Unit.objects.filter(designations__isnull=False).filter(designations__in=models.Designation.objects.counted()).distinct()
    places = len(set(units.values_list("current__key", flat=True)))
    page = html(response)
    assert f"{places:,} 个示范县（按地方计）</h2>" in page  # the list shows places, and says so
    assert f"本名录计有 {places:,} 个示范县" in page and f"和 {units.count():,} 个获批单位" in page  # and how many of each
    assert f"{units.count():,} 个获批单位</h2>" in html(client.get("/counties/?scope=designated"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("scope=all", "3,078 个单位"),
        # The 832 and the 60 units they became (worked out in test_api).
        ("scope=all&poverty=true", "896 个单位"),  # every code of the 832: 892 on main, + 4 created after 2020
        ("province=650000&batch_year=2016", "23 个示范县（按地方计）"),
        ("scope=all&q=xuanhua", "宣化区"),
        ("scope=all&q=宣化", "宣化区"),
        ("scope=all&q=130705", "宣化区"),
        ("scope=all&q=130721", "宣化区"),  # an old code finds its successor
        ("scope=all&type=banner&province=150000", "49 个单位"),
        ("scope=all&exit_year=2016", "32 个单位"),  # 28 counties and 4 units they became (test_api)
    ],
)
def test_county_list_filters(client, query, expected):
    response = client.get(f"/counties/?{query}")
    assert response.status_code == 200
    assert expected in html(response)


def test_county_list_facets_have_counts(client):
    page = html(client.get("/counties/?scope=all&province=130000"))
    hebei = models.Unit.objects.filter(province__code="130000").count()
    assert f'<span class="count">{hebei}</span>' in page
    assert 'href="?scope=all&amp;province=130000&amp;poverty=true"' in page


def test_a_chosen_province_keeps_the_other_provinces_counts(client):
    # Choose 新疆 in the list of demonstration counties: the province facet still counts every
    # province's places (the province table's number), and with another filter too (a count in
    # the database), each what the list of that province would count.
    from counties.reads import statistics

    places = statistics.list_index().places
    for query, also in (("province=650000", {}), ("province=650000&type=county", {"unit_type": "county"})):
        page = html(client.get(f"/counties/?{query}"))
        for code, name in (("130000", "河北"), ("530000", "云南")):
            count = models.Unit.objects.filter(pk__in=places, province__code=code, **also).count()
            assert count > 5
            link = query.replace("650000", code).replace("&", "&amp;")
            assert f'<li><a href="?{link}">{name}</a> <span class="count">{count}</span></li>' in page


def test_a_province_list_sends_the_database_that_provinces_places_only(client):
    """The scope's set goes to the database narrowed to the chosen province: a few hundred ids
    instead of every province's (ten thousand with ten times the data)."""
    from counties.reads import statistics

    index = statistics.list_index()
    hebei = index.places_in("130000")
    assert len(hebei) == models.Unit.objects.filter(pk__in=index.places, province__code="130000").count() > 50
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/counties/?province=130000")
    assert page.status_code == 200
    most = max(len(re.findall(r"\d+", q["sql"])) for q in queries)  # the numbers in the longest query
    assert len(hebei) <= most < 2 * len(hebei) < len(index.places)


# The public pages in both languages, where a count can pass 1,000.
PUBLIC_PAGES = [
    "/",
    "/batches/",
    "/batches/2018/",
    "/batches/2021/",
    "/statistics/",
    "/statistics/?as_of=2018",
    "/counties/",
    "/counties/?scope=all",
    "/counties/?scope=designated&page_size=25",
    "/provinces/",
    "/provinces/130000/",
    "/counties/130705/",
]
# A run of four or more digits that no comma groups and that is not part of a decimal, a path or a name.
UNGROUPED = re.compile(r"(?<![\d,./\w-])\d{4,}(?![\d,.]\d|[\w/-])")


def visible_text(page):
    """The text a reader sees: no tags (so no attribute, link or chart coordinate), no head."""
    body = page[page.index("<body") :]
    return re.sub(r"<[^>]+>", " ", body)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_counts_are_grouped_in_thousands_and_years_and_codes_never(client, prefix, path):
    text = visible_text(html(client.get(prefix + path)))
    ungrouped = {n for n in UNGROUPED.findall(text) if not (len(n) == 4 and 1949 <= int(n) <= 2100) and len(n) != 6}
    assert ungrouped == set()  # the home page said 1146 and 1016, the county list 3055


def test_each_page_writes_the_same_count_the_same_way(client):
    from counties.reads import statistics

    latest, at_2018 = statistics.coverage(), statistics.coverage(2018)
    assert (latest.demonstration_counties, latest.designated_units, at_2018.batch_entries) == (1199, 1217, 1016)
    home = cells(html(client.get("/")))
    assert "<dd>1,199</dd>" in home and "<dd>1,217</dd>" in home and "<dd>1,260</dd>" in home  # places, units, entries
    assert "截至 2018 年底：示范县 1,016 个（按地方计），覆盖 832 个贫困县中的 737 个（88.6%）。" in home
    assert "本名录包含 1,146 条示意入选记录" in home
    statistics_page = cells(html(client.get("/en/statistics/")))
    assert "<div><dt>Demonstration counties (places)</dt><dd>1,199</dd></div>" in statistics_page
    assert "<title>2018 · Demonstration counties: 1,016</title>" in statistics_page  # the chart, as before
    # A year and a code are names, not amounts: never grouped, beside a count that is.
    assert '<tr><th scope="row">2018</th><td class="num">1,016</td><td class="num">260</td>' in statistics_page
    assert '<option value="2018">2018</option>' in statistics_page
    assert '<a href="/en/counties/130705/">130705</a>' in cells(html(client.get("/en/counties/?scope=all&q=130705")))
    assert "(1,016 counties and 737 poverty counties by 2018; 1,180 counties and all 832 by 2019)" in statistics_page
    assert "（截至 2018 年示范县 1,016 个、覆盖贫困县 737 个；截至 2019 年示范县 1,180" in cells(html(client.get("/statistics/")))
    listed = cells(html(client.get("/counties/?scope=all")))
    assert "3,078 个单位</h2>" in listed
    assert "本名录计有 1,199 个示范县" in listed and "和 1,217 个获批单位" in listed
    assert "1,199 demonstration counties (places)</h2>" in cells(html(client.get("/en/counties/")))


def test_percentages_have_one_decimal_in_tables_sentences_and_charts(client):
    page = cells(html(client.get("/en/statistics/")))
    batches = page[page.index('id="h-batches"') :]
    # 2015: 92 poverty counties of 200 is 46%: 46.0% in the table, and now in the chart's tooltip too (it said 46).
    assert '<td class="num">92</td><td class="num">46.0%</td>' in batches
    assert "<title>2015 · Poverty share (%): 46.0</title>" in batches
    assert "<title>2019 · Poverty counties covered (%): 100.0</title>" in page and '<td class="num">100.0%</td>' in page


def national_section(page):
    section = page[page.index('id="h-national"') :]
    return section[: section.index("</table>")]


def test_national_series_chart_writes_each_value_as_the_table_and_the_api_do(client):
    from decimal import Decimal

    section = national_section(cells(html(client.get("/en/statistics/"))))
    chart = section[: section.index("</svg>")]
    rural, poverty = "Rural online retail sales", "832 poverty counties"
    # Short, so the legend fits a phone; the table beside it names each definition.
    before, after = "Rural, to 2015", "Rural, from 2016"
    # The tooltips said 0.9, 1.25 and 0.3: the axis's two decimals, not the table's three.
    expected = [(2014, before, "0.18"), (2015, before, "0.353"), (2016, after, "0.895"), (2017, after, "1.245")]
    expected += [(2018, after, "1.37"), (2019, after, "1.7"), (2021, after, "2.05"), (2020, poverty, "0.301")]
    for year, series, value in expected:
        assert f"<title>{year} · {series}: {value}</title>" in chart
        assert f'<th scope="row">{year}</th><td>{poverty if series == poverty else rural}</td><td class="num">{value}</td>' in section
    api = csv.DictReader(io.StringIO(client.get("/api/v1/stats/national-series/?format=csv").content.decode("utf-8-sig")))
    published = {(int(r["year"]), r["series"]): Decimal(r["trillion_yuan"]) for r in api}
    assert published[(2016, "rural_online_retail_sales")] == Decimal("0.895")
    assert published[(2017, "rural_online_retail_sales")] == Decimal("1.245")
    assert published[(2020, "poverty_counties_online_retail_sales")] == Decimal("0.301")
    chinese = national_section(cells(html(client.get("/statistics/"))))
    assert "<title>2016 · 农村，2016 年起：0.895</title>" in chinese
    assert "<title>2020 · 832 个贫困县：0.301</title>" in chinese


def test_national_series_marks_the_2016_break_and_says_not_recorded_here(client):
    section = national_section(html(client.get("/en/statistics/")))
    chart = section[: section.index("</svg>")]
    # 2014–2015 (the earlier definition) and 2016–2021 (service retail included) are two lines,
    # never joined across the change; the 832's 2020 is a point alone.
    lines = [line.split() for line in re.findall(r'<polyline points="([^"]+)"', chart)]
    assert [len(line) for line in lines] == [2, 6]
    assert "Change of definition in 2016" in section
    assert "earlier definition (2014–2015), not comparable with later years" in section
    assert "2016 年调整统计口径" in html(client.get("/statistics/"))
    # Before 2016 there is no break to speak of; every year has its figure: nothing "not recorded".
    early = html(client.get("/en/statistics/?as_of=2015"))
    assert "Change of definition" not in early and "Not recorded here" not in early
    # A year without a figure here is "not recorded here" (此处未记录), never "no published figure".
    models.ProgrammeFact.objects.filter(fact_id="R2018").delete()
    mark_data_changed()
    assert "Not recorded here (the line breaks there): 2018." in html(client.get("/en/statistics/"))
    assert "此处未记录（折线在此中断）：2018。" in html(client.get("/statistics/"))
    assert "no published figure" not in html(client.get("/en/statistics/"))


def sort_menu(page):
    """The narrow screen's sort menu as (value, label, chosen) per option."""
    menu = page[page.index('<select id="ordering"') :]
    menu = menu[: menu.index("</select>")]
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', menu)
    return [(value, label, bool(chosen)) for value, chosen, label in options]


def test_the_sort_menu_offers_each_order_once_and_names_its_direction(client):
    # It listed 代码 twice: the ascending code order and, for an empty value, the default order (the same).
    chinese = sort_menu(html(client.get("/counties/")))
    assert [(value, label) for value, label, _ in chinese] == [
        ("code", "代码（升序）"),
        ("-code", "代码（降序）"),
        ("pinyin", "拼音（升序）"),
        ("-pinyin", "拼音（降序）"),
        ("province", "省份（升序）"),
        ("-province", "省份（降序）"),
        ("first_year", "启用年份（升序）"),
        ("-first_year", "启用年份（降序）"),
        ("updated_at", "更新时间（升序）"),
        ("-updated_at", "更新时间（降序）"),
    ]
    assert [value for value, _, chosen in chinese if chosen] == ["code"]  # the list's default order
    english = sort_menu(html(client.get("/en/counties/?scope=all&ordering=-province")))
    assert english[:2] == [("code", "code (ascending)", False), ("-code", "code (descending)", False)]
    assert [value for value, _, chosen in english if chosen] == ["-province"]
    assert len({label for _, label, _ in english}) == len(english) == 10


def test_bad_filter_value_is_reported_not_a_500(client):
    response = client.get("/counties/?province=999999&batch_year=soon")
    assert response.status_code == 400
    page = html(response)
    assert "province" in page and "batch_year" in page


# Every list request, with the statistics cache warm (each page size is another address, so the
# response cache does not answer): the data token, read once for the whole request by the response
# cache, the filtered list's rows (one scan: the count, the page and the facets come from it), the
# page's units, their place records (earlier codes, poverty statuses, designations: 3) and the
# provinces (the menu, the facet's and the chips' names, the rows' provinces): 7. The province
# filter looks the province up. A chosen facet value keeps the facet's other values: the list
# filtered by everything but that value is read once more (counted by province or type in the
# database, or its units' keys for the facets of the list index); when the province is the only
# filter, the province facet's counts are the province table's (cached statistics), no query.
@pytest.mark.parametrize(
    ("query", "queries"),
    [
        ("", 7),
        ("province=130000", 7 + 1),
        ("province=130000&poverty=true", 7 + 1 + 2),  # + the province and poverty facets' units
        ("scope=all&q=xuanhua&ordering=-first_year", 7),
        ("scope=all&q=W%C7%94%20d%C5%AB", 7),  # Wǔ dū: the folding happens in the one query
        ("scope=all&poverty=true&batch_year=2016-2018", 7 + 2),  # + the poverty and batch-year facets' units
        ("scope=all&type=district&province=130000", 7 + 1 + 2),  # + the province and type facets' counts
    ],
)
def test_county_list_query_count_does_not_depend_on_page_size(client, django_assert_num_queries, query, queries):
    client.get(f"/counties/?{query}")  # fill the statistics cache
    for size in (25, 200):
        with django_assert_num_queries(queries):
            assert client.get(f"/counties/?{query}&page_size={size}").status_code == 200


def test_csv_export_of_the_filtered_list(client):
    response = client.get("/counties/export.csv?province=650000&batch_year=2016")
    assert response["Content-Disposition"] == 'attachment; filename="counties-demonstration.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # BOM for Excel
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 23
    assert {r["province_code"] for r in rows} == {"650000"}


def test_xlsx_export_of_the_filtered_list(client):
    response = client.get("/counties/export.xlsx?scope=all&poverty=true&province=640000")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "code"
    assert len(rows) - 1 == 8  # Ningxia's poverty counties
    assert client.get("/counties/export.csv?type=village").status_code == 400


def test_county_page(client, django_assert_max_num_queries):
    # The data token (the response cache); the unit; its place (lineage, units, successions,
    # designations with their assessments and lifecycle records, funding, poverty status); targets
    # and results (lineage, values, batch years, assessments, pairings, the indicator catalogue).
    with django_assert_max_num_queries(16):
        response = client.get("/counties/130705/")
    page = html(response)
    assert "宣化区" in page and "Xuanhua District" in page
    assert "宣化县 (130721)" in page  # designated under its old code, shown on the place's page
    assert "名单所列名称：宣化县" in page  # the poverty status listed under the old unit
    assert "示意数据" in page


def test_english_pages_name_provinces_and_prefectures_in_english(client):
    county = cells(html(client.get("/en/counties/652801/")))
    assert "Korla City" in county  # 库尔勒市: its official romanisation, not "Ku'erlei"
    assert '<a href="/en/provinces/650000/">Xinjiang Uygur Autonomous Region</a> › Bayingolin Mongol Autonomous Prefecture' in county
    assert '巴音郭楞蒙古自治州 <span class="romanised" lang="en">Bayingolin Mongol Autonomous Prefecture</span>' in county
    assert "库尔勒市, Xinjiang Uygur Autonomous Region (652801): code history" in county  # the meta description
    chinese = cells(html(client.get("/counties/652801/")))
    assert '<a href="/provinces/650000/">新疆维吾尔自治区</a> › 巴音郭楞蒙古自治州' in chinese and "Bayingolin" not in chinese
    batch = cells(html(client.get("/en/batches/2016/")))
    assert "<td>Xinjiang</td>" in batch and "<td>新疆维吾尔自治区</td>" not in batch
    assert "<td>新疆</td>" in cells(html(client.get("/batches/2016/")))
    listed = html(client.get("/en/counties/?province=650000"))
    assert '<option value="650000" selected>Xinjiang</option>' in listed and '<td data-label="Province">Xinjiang</td>' in listed
    assert "<title>Xinjiang Uygur Autonomous Region" in cells(html(client.get("/en/provinces/650000/")))


def test_province_chart_labels_are_whole_short_names_in_the_page_language(client):
    # Each bar's <title> carries its label (the axis may show only some of them).
    chinese = html(client.get("/statistics/"))
    english = html(client.get("/en/statistics/"))
    for short in ("新疆", "广西", "宁夏", "内蒙古", "西藏"):
        assert f"<title>{short} · " in chinese
    for cut in ("新疆维", "广西壮", "宁夏回"):  # the labels were cut to three characters
        assert f"<title>{cut} · " not in chinese and f">{cut}</text>" not in chinese
    for short in ("Xinjiang", "Guangxi", "Ningxia", "Inner Mongolia", "Tibet"):
        assert f"<title>{short} · " in english
    assert "<title>新疆 · " not in english


def test_old_code_redirects_to_the_unit_page_which_says_how_the_code_changed(client):
    response = client.get("/counties/130721/")
    assert response.status_code == 301
    assert response["Location"] == "/counties/130705/?from=130721"
    assert client.get("/en/counties/X632801/")["Location"] == "/en/counties/632803/?from=X632801"
    # A forged `from` is replaced by the code asked for; a parameter the page does not read is
    # dropped (it would only make a new cache entry: counties.caching.keys.normalize_query).
    assert client.get("/counties/130721/?as_of=2016&from=1")["Location"] == "/counties/130705/?from=130721"
    page = html(client.get(response["Location"]))
    assert "130721 宣化县 于 2016 年变更为 130705 宣化区。" in page
    english = html(client.get("/en/counties/130705/?from=130721"))
    assert "130721 宣化县 became 130705 宣化区 in 2016." in english
    # Without the old code, or with a code that is not one of the place's, no banner.
    assert "code-change" not in html(client.get("/counties/130705/"))
    assert "code-change" not in html(client.get("/counties/130705/?from=650422"))
    # The code history names and links every code, the successors of a split included.
    history = page[page.index('<ul class="history">') :]
    history = history[: history.index("</ul>")]
    assert '<a href="/counties/130721/">宣化县 (130721)</a>' in history
    assert '<a href="/counties/130702/">桥东区 (130702)</a>' in history


def test_unknown_code_is_a_404_page(client):
    response = client.get("/counties/999999/")
    assert response.status_code == 404
    assert "999999" in html(response)
    assert "<html" in html(response)


def test_under_debug_a_page_not_found_is_still_the_sites_404(client, settings):
    settings.DEBUG = True
    missing = client.get("/counties/999999/")
    assert missing.status_code == 404 and "没有代码为 999999 的县级单位。" in html(missing)
    assert "Using the URLconf" not in html(missing) and 'href="/counties/">' in html(missing)
    nowhere = client.get("/nowhere/")
    assert nowhere.status_code == 404 and "此地址没有页面。" in html(nowhere)
    assert "There is no page at this address." in html(client.get("/en/nowhere/"))
    assert client.get("/counties").status_code == 301  # the slash is still added
    assert client.get("/api/v1/counties/999999/").json()["error"]["code"] == "not_found"


def test_province_pages(client):
    assert client.get("/provinces/").status_code == 200
    page = html(client.get("/provinces/650000/"))
    assert "新疆维吾尔自治区" in page
    assert client.get("/provinces/990000/").status_code == 404


def test_batch_pages(client):
    page = cells(html(client.get("/batches/2016/")))
    assert "158" in page and "65.8%" in page and "达标" in page
    assert "36 亿元" in page and "36.00" not in page  # 3.6 bn yuan in 亿元, without '.00'
    # The published province count (23, counting the Production and Construction Corps apart) and
    # the recorded one (22) are both shown, labelled, and the note explains the difference.
    assert "<dt>省份（本名录记录）</dt><dd>22</dd>" in page and "<dt>省份（公布数字）</dt><dd>23</dd>" in page
    assert "新疆生产建设兵团" in page
    page2021 = cells(html(client.get("/batches/2021/")))
    assert "名单不完整" in page2021 and "148" in page2021
    # A partial batch shows no misleading share or verdict.
    assert "不完整（已知 148 个中的 29 个）" in page2021 and "17.2%" not in page2021
    assert client.get("/batches/2013/").status_code == 404
    batches = cells(html(client.get("/batches/")))
    # One unit per column, named in its header: totals in 亿元, per county in 万元.
    assert "中央资金（亿元）" in batches and "每县（万元）" in batches
    assert '<td class="num">37</td><td class="num">1,850</td>' in batches  # 2015: 3.7 bn, 18.5 m
    assert '<td class="num" colspan="2">不完整（已知 148 个中的 29 个）</td>' in batches
    english = cells(html(client.get("/en/batches/")))
    assert "Central funds (billion yuan)" in english and "Per county (million yuan)" in english
    assert '<td class="num">3.7</td><td class="num">18.5</td>' in english


def test_statistics_page_has_charts_tables_downloads_and_definitions(client):
    page = cells(html(client.get("/statistics/?as_of=2018")))
    # five coverage charts (the provinces' drawn as two) and the national online retail series
    assert page.count("<svg") == 7
    assert "<table" in page and "/api/v1/stats/coverage/series/?as_of=2018&amp;format=csv" in page
    assert "cdn" not in page.lower()
    assert '<h2 id="h-definitions">定义</h2>' in page
    english = cells(html(client.get("/en/statistics/?as_of=2018")))
    # The figures themselves, where they are shown (the definitions text holds no figure).
    for label, value in (
        ("Batch entries", "1,016"),
        ("Designated units (codes)", "1,016"),
        ("Demonstration counties (places)", "1,016"),
        ("Poverty counties covered, of 832", "737"),
        ("Poverty coverage", "88.6%"),
    ):
        assert f"<div><dt>{label}</dt><dd>{value}</dd></div>" in english
    # The series table's rows: year, entries, new entries, places, covered, coverage; as of 2018,
    # the later years are left out, and the page says so.
    row_2018 = (2018, "1,016", 260, "1,016", 737, "88.6%")
    row_2019 = (2019, "1,231", 215, "1,180", 832, "100.0%")

    def series_row(row):
        return f'<th scope="row">{row[0]}</th>' + "".join(f'<td class="num">{n}</td>' for n in row[1:]) + "</tr>"

    assert series_row(row_2018) in english and series_row(row_2019) not in english
    assert "the years after 2018 (up to 2021) are left out" in english
    assert series_row(row_2019) in cells(html(client.get("/en/statistics/")))
    definitions = english[english.index('id="h-definitions"') :]
    assert "the unit in use at the end of that year that a designated unit had become by then" in definitions.lower()
    assert "长岛县 (2017) and 蓬莱市 (2018) are two places at the end of 2018 and one from the end of 2020" in definitions


def batch_chart(page):
    """The statistics page's chart of each batch's poverty share: its x label positions by batch and its rule lines."""
    chart = page[page.index('id="h-batches"') :]
    chart = chart[chart.index("<svg") : chart.index("</svg>")]
    labels = {label: float(x) for x, label in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle"[^>]*>([\d-]+)</text>', chart)}
    lines = [(float(x1), float(x2)) for x1, x2 in re.findall(r'<line class="rule" x1="([\d.]+)" x2="([\d.]+)"', chart)]
    return chart, labels, lines


def test_the_poverty_share_rule_is_drawn_only_over_the_batches_it_applied_to(client):
    """The rule of at least 50% poverty counties applied from 2016 (to 2019: the 2021 batch has none);
    the line was drawn across the whole chart, from 2014."""
    chart, labels, lines = batch_chart(html(client.get("/en/statistics/")))
    assert list(labels) == ["2014", "2015", "2016", "2017", "2018", "2019", "2020", "2021"]
    [(start, end)] = lines  # one line: the rule held unchanged 2016–2019
    assert labels["2015"] < start < labels["2016"] and labels["2019"] < end < labels["2020"]
    assert "Rule: at least half" in chart
    # As of 2015 no batch had the rule: no line, and the legend does not name one.
    chart, labels, lines = batch_chart(html(client.get("/en/statistics/?as_of=2015")))
    assert list(labels) == ["2014", "2015"] and lines == [] and "Rule" not in chart


def test_the_pages_state_no_poverty_share_rule_for_2014_and_2015(client):
    from counties.reads import statistics

    assert [b.year for b in statistics.batch_composition() if b.meets_rule is None] == [2014, 2015, 2020, 2021]
    batches = cells(html(client.get("/en/batches/")))
    for year in (2014, 2015):
        row = batches[batches.index(f'<a href="/en/batches/{year}/">{year}</a>') :]
        row = row[: row.index("</tr>")]
        assert "≥" not in row and '<td class="rule">—</td>\n    <td>—</td>' in row  # the rule and whether it was met
        page = cells(html(client.get(f"/en/batches/{year}/")))
        assert "<dt>Rule</dt><dd>none</dd>" in page and "against the rule" not in page
        assert f"designated in {year}: poverty share, central funds" in page
        assert "<dt>规则</dt><dd>无</dd>" in cells(html(client.get(f"/batches/{year}/")))
    page2016 = cells(html(client.get("/en/batches/2016/")))
    assert '<dt>Rule</dt><dd><span class="rule">≥&nbsp;50%</span> — met</dd>' in page2016 and "poverty share against the rule" in page2016


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("abc", "Enter the year as four digits, such as 2018."),
        ("1900", "There are figures for the end of 2014 to the end of 2021 (the latest year with a batch), not 1900."),
        ("3000", "There are figures for the end of 2014 to the end of 2021 (the latest year with a batch), not 3000."),
    ],
)
def test_statistics_page_names_a_bad_year(client, as_of, message):
    response = client.get(f"/en/statistics/?as_of={as_of}")
    assert response.status_code == 400
    page = html(response)
    assert f'<q lang="zxx">{as_of}</q>: {message}' in page
    assert "The figures below are for the end of 2021." in page
    assert client.get(f"/statistics/?as_of={as_of}").status_code == 400


def test_statistics_money_has_one_unit_per_column_and_axis(client):
    page = html(client.get("/statistics/"))
    assert "5,000,000,000" not in page and ".00 " not in page
    chart = page[page.index("按财政年度记录的资金安排") - 600 :]
    chart = chart[: chart.index("</svg>")]
    assert ">亿元</text>" in chart  # the funding axis names its unit once
    english = html(client.get("/en/statistics/"))
    assert "Funding allocations recorded, by fiscal year, in " in english


def test_statistics_province_chart_labels_every_province_sorted(client):
    from counties.reads import statistics

    page = html(client.get("/statistics/?as_of=2018"))
    chart = page[page.index("各省示范县数") :]
    chart = chart[: chart.index("</figure>")]  # two charts on one scale, the first half of the provinces and the rest
    assert chart.count("</svg>") == 2
    rows = [p for p in statistics.province_table(2018) if p.demonstration_counties]
    rows.sort(key=lambda p: (-p.demonstration_counties, p.code))
    labels = [f'text-anchor="end" fill="#333">{p.short_name_zh}</text>' for p in rows]
    assert all(label in chart for label in labels)  # every province, in full
    assert [chart.index(label) for label in labels] == sorted(chart.index(label) for label in labels)  # most first
    assert len({p.demonstration_counties for p in rows}) > 5  # a measure that differs between provinces


def test_province_chart_draws_its_poverty_part_inside_the_whole_as_the_table_and_api_count_it(client):
    page = cells(html(client.get("/en/statistics/")))
    chart = page[page.index("Demonstration counties by province") :]
    chart = chart[: chart.index("</figure>")]
    bars = re.findall(r'width="([\d.]+)" height="[\d.]+" fill="#[0-9a-f]+"><title>([^<]+) · ([^<:]+): ([\d,]+)</title>', chart)
    whole = {name: (float(w), int(n)) for w, name, series, n in bars if series == "Demonstration counties (places)"}
    part = {name: (float(w), int(n)) for w, name, series, n in bars if series != "Demonstration counties (places)"}
    assert len(whole) > 20 and set(part) == set(whole)
    # The dark bar drew the poverty counties covered: Qinghai's 42 (茫崖市 holds 茫崖 and 冷湖)
    # stuck out past its 41 places. It now counts places too, so it is never longer.
    assert whole["Qinghai"] == part["Qinghai"] == (whole["Qinghai"][0], 41)
    assert "<title>Qinghai · Of which poverty counties (places): 41</title>" in chart
    assert all(part[name][1] <= whole[name][1] and part[name][0] <= whole[name][0] for name in whole)
    assert part["Sichuan"][1] < whole["Sichuan"][1]  # a province with places that are not poverty counties
    # The table beside it and the API give the part and the poverty counties covered, each by its name.
    qinghai = page[page.index('<a href="/en/provinces/630000/">') :]
    assert qinghai.split("</tr>")[0].endswith(
        '<td class="num">45<sup>†</sup></td><td class="num">42</td><td class="num">41</td><td class="num">41</td>'
        '<td class="num">42</td><td class="num">100.0%</td><td class="num">74</td>'
    )
    row = next(p for p in client.get("/api/v1/stats/provinces/").json() if p["code"] == "630000")
    assert (row["demonstration_counties"], row["poverty_demonstration_counties"], row["poverty_counties_covered"]) == (41, 41, 42)
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/stats/provinces/?format=csv").content.decode("utf-8-sig"))))
    assert next(r for r in rows if r["code"] == "630000")["poverty_demonstration_counties"] == "41"
    chinese = cells(html(client.get("/statistics/")))
    assert "<title>青海 · 其中贫困县（按地方计）：41</title>" in chinese
    assert "<dt>其中贫困县（按地方计）</dt><dd>本身是或包含国家级贫困县的示范县（按地方计）。" in chinese


def test_pages_are_findable(client):
    page = html(client.get("/counties/130705/"))
    assert '<link rel="canonical" href="http://testserver/counties/130705/">' in page
    assert "<title>宣化区 (130705)" in page
    assert '<meta name="description" content="' in page
    sitemap = html(client.get("/sitemap.xml"))
    for path in ("/counties/130705/", "/provinces/130000/", "/batches/2016/", "/statistics/"):
        assert f"http://testserver{path}</loc>" in sitemap
    assert "/counties/130721/</loc>" not in sitemap  # old codes redirect; only the place's page is listed


def test_page_labels_and_landmarks(client):
    page = html(client.get("/counties/"))
    assert 'href="#main"' in page and '<main id="main"' in page
    assert '<label for="q">' in page and '<label for="province">' in page
    assert '<nav aria-label="' in page


def test_county_list_chips_remove_one_filter_and_facets_keep_other_values(client):
    page = html(client.get("/counties/?province=650000&batch_year=2016"))
    chips = page[page.index('class="chips"') :]
    chips = chips[: chips.index("</div>")]
    # Each chip links to the list without that filter only.
    assert 'href="?batch_year=2016"' in chips and "新疆维吾尔自治区" in chips
    assert 'href="?province=650000"' in chips and "2016" in chips
    # The province facet still lists the other provinces with their 2016 counts; the chosen one
    # links to its removal.
    facet = page[page.index('id="facet-province"') :]
    facet = facet[: facet.index("</section>")]
    assert '<a href="?batch_year=2016" aria-current="true" class="current">新疆' in facet
    assert '<a href="?province=150000&amp;batch_year=2016">内蒙古</a> <span class="count">20</span>' in facet
    # More than eight values: the rest behind a visible "show all".
    assert '<details class="facet-more">' in facet and "显示全部 22 项" in facet
    assert page.count('aria-current="true" class="current"') == 2


def test_county_list_headers_sort_both_ways(client):
    page = html(client.get("/counties/?scope=all&province=650000"))
    assert '<th scope="col" aria-sort="ascending"><a href="?scope=all&amp;province=650000&amp;ordering=-code" class="sort">' in page
    assert '<a href="?scope=all&amp;province=650000&amp;ordering=pinyin" class="sort">' in page
    descending = html(client.get("/counties/?scope=all&province=650000&ordering=-code"))
    assert '<th scope="col" aria-sort="descending"><a href="?scope=all&amp;province=650000&amp;ordering=code" class="sort">' in descending
    codes = [line.split('">')[1].split("<")[0] for line in descending.split('<td class="card-title"><a href="/counties/')[1:]]
    assert codes == sorted(codes, reverse=True) and len(codes) > 10
    # What a screen reader hears on the sorted column says which way it is sorted.
    assert "（已降序排列；点击改为升序）" in descending and "（已升序排列；点击改为降序）" in page
    assert "（已降序排列" not in page and "（已升序排列" not in descending


def test_county_list_result_line_and_export_links(client):
    page = html(client.get("/counties/?province=650000&page_size=25&page=2"))
    heading = page[page.index('id="results-heading">') + len('id="results-heading">') :]
    count = int(heading.split(" ")[0])
    assert f"第 26–{min(50, count)} 条，共 {count:,} 条" in page
    assert "2021 年末在用的单位" in page  # says what is counted, and as of when
    assert 'href="/counties/export.csv?province=650000"' in page
    assert 'href="/counties/export.xlsx?province=650000"' in page
    # The API link selects the same units: the scope becomes the API's filter.
    assert 'href="/api/v1/counties/?province=650000&amp;designated=true"' in page
    api = client.get("/api/v1/counties/?province=650000&designated=true").json()
    assert api["count"] == count
    english = html(client.get("/en/counties/?scope=all"))
    assert "1–50 of 3,078" in english
    assert 'href="/api/v1/counties/?" data-export="json"' in english  # every unit: no filter


def test_county_list_pages_and_page_sizes_keep_the_filters(client):
    page = html(client.get("/counties/?province=620000&page_size=25"))
    assert '<a href="?province=620000&amp;page_size=25&amp;page=2" rel="next">' in page
    assert '<a href="?province=620000&amp;page_size=100">100</a>' in page
    assert '<a href="?province=620000&amp;page_size=25&amp;scope=designated">' in page
    second = html(client.get("/counties/?province=620000&page_size=25&page=2"))
    assert '<a href="?province=620000&amp;page_size=25&amp;page=1" rel="prev">' in second
    assert "第 26–50 条" in second
    assert 'href="??' not in page + second


@pytest.mark.parametrize(
    ("page", "reason"),
    [("0", "That page number is less than 1"), ("abc", "That page number is not an integer"), ("99", "That page contains no results")],
)
def test_a_page_number_outside_the_list_is_a_404_on_the_list_and_in_the_api(client, page, reason):
    listed = client.get(f"/en/counties/?province=620000&page={page}")
    assert listed.status_code == 404
    assert f"There is no page {page}. {reason}." in listed.content.decode()
    api = client.get(f"/api/v1/counties/?province=620000&page={page}", HTTP_ACCEPT_LANGUAGE="en")
    assert api.status_code == 404 and api.json()["error"]["message"] == f"There is no page {page}. {reason}."
    assert "没有第 0 页" in client.get("/counties/?page=0").content.decode()
    assert client.get("/counties/?province=620000&page=last").status_code == 200


def test_county_page_tables_become_cards_on_a_phone(client):
    """Each row of the designations and funding tables is a card on a narrow screen (site.css), each
    cell labelled with its column: the Source column no longer wraps a word a line."""
    page = html(client.get("/en/counties/130705/"))
    # Designations, funding, and the 2019 notice's targets this 2019-batch county is held to.
    assert page.count('<table class="cards">') == 3
    assert '<td data-label="Source">' in page and '<td data-label="Designated as">' in page
    assert 'data-label="Amount (' in page


def test_searching_from_the_filters_lands_on_the_results(client):
    """On a phone the filters come after the results: a search submitted from them must not land
    back on them (a form without an action keeps the page's #filters)."""
    page = html(client.get("/counties/?province=620000"))
    assert '<form method="get" action="/counties/#results-heading" class="search" role="search">' in page
    assert '<form method="get" action="/en/counties/#results-heading"' in html(client.get("/en/counties/"))


def test_chinese_text_uses_full_width_punctuation(client):
    batches = html(client.get("/batches/"))
    assert "* 该批次含示意记录。" in batches and "含示意记录." not in batches
    batch = html(client.get("/batches/2016/"))
    assert "名单：" in batch and "来源：" in batch and "名单:" not in batch and "来源:" not in batch
    listed = html(client.get("/counties/"))
    assert "本列表显示：<strong>示范县（按地方计：在用单位，此前代码的获批也计入）</strong>。" in listed
    assert "以下各项计数与列表所计相同：示范县（按地方计：在用单位，此前代码的获批也计入）。" in listed
    assert "）." not in re.sub(r"<[^>]+>", "", listed)


def test_the_poverty_share_rule_is_kept_on_one_line(client):
    """≥ and the share never wrap apart (the English batch table's narrow rule column did)."""
    assert '<td class="rule">≥&nbsp;50%</td>' in cells(html(client.get("/en/batches/")))
    assert '<span class="rule">≥&nbsp;50%</span>' in html(client.get("/en/batches/2016/"))


def test_a_search_that_finds_only_units_outside_the_list_says_where_they_are(client):
    chinese = html(client.get("/counties/?q=东城"))
    assert "没有结果" in chinese
    assert (
        '东城区（110101）是本名录中的县级单位，但不在本列表中：<a href="/counties/110101/">查看其页面</a> · '
        '<a href="?q=%E4%B8%9C%E5%9F%8E&amp;scope=all">所有符合条件的单位</a>。'
    ) in chinese
    english = html(client.get("/en/counties/?q=110101"))
    assert "Dongcheng District (110101) is a county-level unit in the registry but not in this list" in english
    several = html(client.get("/en/counties/?q=1101"))
    assert re.search(r"\d+ county-level units in the registry match but are not in this list: <a href=\"\?q=1101&amp;scope=all\">", several)
    assert "found-elsewhere" not in html(client.get("/counties/?q=130705"))  # found in the list itself
    assert "found-elsewhere" not in html(client.get("/counties/?q=nowhere"))  # found nowhere


def test_a_chinese_page_shows_the_chinese_exit_year_note(client):
    # 黔西县 520522 is listed under its 2014 code; its page is now 黔西市 520581's, which it became in 2021.
    chinese = html(client.get("/counties/520581/"))
    assert '<span class="hint">来源代码 520581 为黔西市（2021 年设立）；2014—2020 年黔西县的代码为 520522。</span>' in chinese
    assert "source code 520581" not in chinese
    english = html(client.get("/en/counties/520581/"))
    assert '<span class="hint">source code 520581 is 黔西市 (created 2021); 黔西县 was 520522 in 2014-2020</span>' in english
    # Without a Chinese note the English one shows, marked as English.
    models.PovertyStatus.objects.filter(unit__key="520522").update(exit_year_note_zh="")
    mark_data_changed()
    assert '<span class="hint"><span lang="en">source code 520581' in html(client.get("/counties/520581/"))
    both = models.PovertyStatus.objects.get(unit__key="532322")
    assert both.exit_year_note_zh.endswith("来源名单为 2019 年，摘帽公告为 2018 年；采用公告年份。")


def test_the_statistics_page_shows_a_figures_note_in_the_pages_language(client):
    chinese = html(client.get("/statistics/"))
    assert '<span class="hint">同比增长 11.3%</span>' in chinese and "y/y" not in chinese
    assert '<span class="hint">+11.3% y/y</span>' in html(client.get("/en/statistics/"))
    points = client.get("/api/v1/stats/national-series/").json()
    assert {"note": "+11.3% y/y", "note_zh": "同比增长 11.3%"}.items() <= next(p for p in points if p["fact_id"] == "R2021").items()


def test_a_province_page_says_which_units_its_count_includes(client):
    """青海's 45 county-level units are the official 44 and 大柴旦行委, which has no county-level code."""
    chinese = html(client.get("/provinces/630000/"))
    assert "<dd>45 <small>其中 1 个不在官方县级区划统计之内（没有县级代码，或为不设区的市）</small></dd>" in chinese
    english = html(client.get("/en/provinces/630000/"))
    assert (
        "of which 1 the official count of county-level divisions leaves out (no county-level code, or a city without districts)" in english
    )
    assert "<small>" not in html(client.get("/en/provinces/130000/")).split("County-level units")[1].split("</div>")[0]
