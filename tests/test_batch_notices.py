"""Every batch with its notice, and figures the registry works out kept apart from published ones.

The reference data loads a 2020 batch (its notice 财办建〔2020〕48号; its national size not
recorded; Sichuan's 17 new counties published) and the notices of the other batches as far as a
source states them; what no source states is "not recorded" (未记录), never 0. 2016 publishes a
total (3.6 bn yuan) and a size (240) but no amount per county: 3.6 bn ÷ 240 = 15,000,000 yuan is
the registry's own figure, shown as derived (推算) and never among the published ones.
"""

import csv
import io
from decimal import Decimal

import pytest

from counties import models
from counties.caching.token import mark_data_changed
from counties.reads import statistics

from .conftest import cells, run_command

API = "/api/v1"

pytestmark = pytest.mark.django_db


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return cells(response.content.decode())


# -- the data and the loader -------------------------------------------------------------------


def test_the_notices_as_their_sources_state_them():
    batches = {b.year: b for b in models.Batch.objects.filter(sequence=1)}
    assert sorted(batches) == [2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021]
    b2020 = batches[2020]
    assert (b2020.document_number, b2020.notice_title) == ("财办建〔2020〕48号", "关于做好2020年电子商务进农村综合示范工作的通知")
    assert b2020.notice_issuers == "财政部办公厅、商务部办公厅、国务院扶贫办综合司"
    assert b2020.planned_size is None  # the national size was not found: not recorded, not 0
    assert (b2020.notice_source_kind, b2020.document_date) == (models.SourceKind.SECONDARY, None)
    b2017 = batches[2017]
    assert (b2017.document_number, str(b2017.document_date)) == ("财办建〔2017〕30号", "2017-05-03")
    # A notice no source gives the number of keeps an empty number; one no source states at all, no source kind.
    assert batches[2018].document_number == "" and batches[2018].notice_title.startswith("关于开展2018年")
    assert (batches[2016].document_number, batches[2016].notice_title, batches[2016].notice_source_kind) == ("", "", "")
    # The county lists stay where they were, apart from the notice.
    assert batches[2017].list_url.startswith("https://www.mofcom.gov.cn/") and str(batches[2017].list_date) == "2017-08-21"
    successors = [(f.period, f.value_text) for f in statistics.successor_notices()]
    assert successors == [("2021", "商流通发〔2021〕99号"), ("2022", "财办建〔2022〕18号")]
    assert set(models.ProgrammeFact.objects.filter(derived=True).values_list("fact_id", flat=True)) == {"B2016_sichuan", "S2017H1"}


def test_a_reload_keeps_a_notice_staff_corrected():
    models.Batch.objects.filter(year=2019).update(document_number="财办建〔2019〕99号")
    output = run_command("load_reference_data")
    assert "batches: 0 created, 0 updated, 8 unchanged" in output
    assert "batches 2019, 1: document_number is “财办建〔2019〕99号”" in output
    assert models.Batch.objects.get(year=2019).document_number == "财办建〔2019〕99号"
    assert models.Batch.objects.get(year=2020).document_number == "财办建〔2020〕48号"


# -- the one home of "published or derived" ----------------------------------------------------


@pytest.mark.parametrize(
    ("total", "per_county", "size", "derived"),
    [
        (Decimal("3600000000"), None, 240, Decimal("15000000.00")),  # 2016
        (Decimal("3700000000"), Decimal("18500000"), 200, None),  # 2015: published, nothing derived
        (Decimal("3600000000"), None, None, None),  # no size: nothing to divide by
        (None, None, 240, None),
        (Decimal("100"), None, 3, Decimal("33.33")),  # to the fen, halves up
    ],
)
def test_derived_funds_per_county(total, per_county, size, derived):
    batch = models.Batch(central_funds_total=total, central_funds_per_county=per_county, planned_size=size)
    assert batch.derived_funds_per_county == derived


def test_the_composition_keeps_the_derived_figure_apart():
    rows = {b.year: b for b in statistics.batch_composition()}
    assert (rows[2016].central_funds_per_county_yuan, rows[2016].central_funds_per_county_derived_yuan) == (None, Decimal("15000000.00"))
    assert (rows[2015].central_funds_per_county_yuan, rows[2015].central_funds_per_county_derived_yuan) == (Decimal("18500000.00"), None)
    # 2020: nothing recorded of a size not recorded; 2021: 29 of 148; 2018: filled to its 260.
    assert (rows[2020].size, rows[2020].published_size, rows[2020].known_in_part, rows[2020].is_partial) == (0, None, True, False)
    assert (rows[2021].size, rows[2021].published_size, rows[2021].known_in_part) == (29, 148, True)
    assert (rows[2018].size, rows[2018].known_in_part) == (260, False)


def test_coverage_of_a_year_whose_batch_size_is_not_recorded():
    c2020 = statistics.coverage(2020)
    assert (c2020.new_entries, c2020.new_entries_published, c2020.new_entries_known_in_part) == (0, None, True)
    c2018 = statistics.coverage(2018)
    assert (c2018.new_entries, c2018.new_entries_published, c2018.new_entries_known_in_part) == (260, 260, False)
    c2021 = statistics.coverage(2021)
    assert (c2021.new_entries, c2021.new_entries_published, c2021.new_entries_known_in_part) == (29, 148, True)


# -- the doors ---------------------------------------------------------------------------------


def test_the_2020_batch_page(client):
    p = page(client, "/batches/2020/")
    assert "财办建〔2020〕48号" in p and "关于做好2020年电子商务进农村综合示范工作的通知" in p
    assert '<a href="http://iesexpo.com/news-detail-742.html" rel="nofollow noopener">关于做好2020年' in p
    assert "<dt>公布数量</dt><dd>未记录</dd>" in p
    assert "<dt>日期</dt><dd>未记录</dd>" in p
    assert "<dt>已记录的批次条目</dt><dd>0</dd>" in p
    assert "<dt>目前已知</dt><dd>已记录 0 个，公布规模：未记录</dd>" in p and "该批次仅部分已知" in p
    # What is known of it: Sichuan's 17, with its source.
    assert '<td>四川</td><td class="num">17</td>' in p and "kjb.sckjw.com.cn" in p
    english = page(client, "/en/batches/2020/")
    assert "0 designations recorded; the published size is not recorded" in english


def test_a_notice_not_found_says_not_recorded(client):
    p = page(client, "/batches/2016/")
    assert "<dt>文号</dt><dd>未记录</dd>" in p and "<dt>发文机关</dt><dd>未记录</dd>" in p


def test_the_2016_per_county_figure_is_marked_derived(client):
    p = page(client, "/batches/2016/")
    # The published per-county amount: none. The registry's 3.6 bn ÷ 240, apart and marked.
    assert "<dt>每县</dt><dd>未记录</dd>" in p
    assert '<p class="derived" data-derived="central_funds_per_county"><span class="badge badge-derived">推算</span>' in p
    assert "每县金额由本名录推算：1,500 万元（36 亿元 ÷ 240 个县）" in p
    listing = page(client, "/batches/")
    # 2016's row: no published amount per county; the derived one in its own column, marked.
    derived_2016 = '<td class="num derived">1,500 <span class="badge badge-derived">推算</span></td>'
    assert '<td class="num">36</td><td class="num">—</td>' + derived_2016 in listing
    assert '<td class="num">37</td><td class="num">1,850</td><td class="num derived">—</td>' in listing  # 2015: published
    assert "每县（推算）" in listing


def test_the_batch_list_shows_every_notice_and_what_followed(client):
    p = page(client, "/batches/")
    assert '<a href="/batches/2020/">2020</a>' in p and "财办建〔2020〕48号" in p and "财办建〔2017〕30号" in p
    assert "后续政策" in p and "商流通发〔2021〕99号" in p and "财办建〔2022〕18号" in p
    assert "不完整（已记录 0 个；规模未记录）" in p  # 2020, in the batch table


def test_the_statistics_page_shows_no_bare_zero_for_2020(client):
    p = page(client, "/statistics/?as_of=2020")
    row = p.split('<th scope="row">2020</th>', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">已记录 0 个（公布：未记录）</td>' in row
    row2018 = p.split('<th scope="row">2018</th>', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">260</td>' in row2018


def test_the_api_gives_the_notice_and_keeps_derived_apart(client):
    batches = {b["year"]: b for b in client.get(f"{API}/batches/").json()["results"]}
    assert batches[2020]["document_number"] == "财办建〔2020〕48号"
    assert batches[2020]["notice_issuers"] == "财政部办公厅、商务部办公厅、国务院扶贫办综合司"
    assert (batches[2020]["planned_size"], batches[2020]["recorded_designations"], batches[2020]["known_in_part"]) == (None, 0, True)
    assert (batches[2016]["central_funds_per_county"], batches[2016]["central_funds_per_county_derived"]) == (None, "15000000.00")
    assert (batches[2015]["central_funds_per_county"], batches[2015]["central_funds_per_county_derived"]) == ("18500000.00", None)
    stats = {b["year"]: b for b in client.get(f"{API}/stats/batches/").json()}
    assert (stats[2016]["central_funds_per_county_yuan"], stats[2016]["central_funds_per_county_derived_yuan"]) == (None, "15000000.00")
    coverage = client.get(f"{API}/stats/coverage/?as_of=2020").json()
    assert (coverage["new_entries"], coverage["new_entries_published"], coverage["new_entries_known_in_part"]) == (0, None, True)
    # The CSV the statistics page links to carries the derived figure in its own column.
    text = client.get(f"{API}/stats/batches/?format=csv").content.decode("utf-8-sig")
    rows = {row["year"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (rows["2016"]["central_funds_per_county_yuan"], rows["2016"]["central_funds_per_county_derived_yuan"]) == ("", "15000000.00")


@pytest.mark.parametrize(("path", "language"), [("/batches/2020/", "zh-hans"), ("/en/batches/2020/", "en"), ("/en/batches/", "en")])
def test_the_notices_are_marked_in_their_own_language(client, path, language):
    """A notice's Chinese title, number and issuers on an English page are marked as Chinese."""
    from .test_languages import names_of_things, problems

    assert problems(client.get(path).content.decode(), language, names_of_things()) == []


def test_the_batch_pages_cost_the_same_with_more_batches(client, django_assert_num_queries):
    # The data token; the programme's rows (designations, poverty counties, successions); the
    # designations' outcomes and the funds their lifecycle records return; the composition's central
    # allocations and batches; the notices (the batches again) and the notices that followed; the
    # provincial batches: the same however many batches there are.
    with django_assert_num_queries(1 + 3 + 2 + 2 + 2 + 1):
        client.get("/batches/")
    models.Batch.objects.create(
        year=2022, title_zh="二〇二二", title_en="2022", source="http://example.org/", source_kind="secondary", notice_title="通知"
    )
    mark_data_changed()
    with django_assert_num_queries(1 + 3 + 2 + 2 + 2 + 1):
        response = client.get("/batches/")
    assert '<a href="/batches/2022/">2022</a>' in cells(response.content.decode())
