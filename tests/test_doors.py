"""The same question gets the same number at every door: home page, county list (header and
facets), province pages, batch page, API and CSV exports, on a fixture with a rename, a merger
and a withdrawal whose figures are worked out by hand."""

import csv
import io
import re

import pytest

from counties import models
from counties.writes import services

from .conftest import cells

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawn(world):
    """The statistics `world` (乙县 → 乙区 in 2016; 丙县 + 丁县 → 丙市 in 2018) with 戊县's 2016
    designation withdrawn. As of the latest batch year (2021), by hand:

      entries (7): 甲县 2015, 乙县 2015, 丙县 2016, 己县 2016, 甲县 2019, 乙区 2019, 丙市 2019
      designated units (6): 甲县, 乙县, 丙县, 己县, 乙区, 丙市
      places (4): 甲县, 乙区 (乙县), 丙市 (丙县), 己县
      poverty counties covered (4 of 5): 甲县, 乙县 (as 乙区), 丙县 and 丁县 (as 丙市); not 庚县
      2016 batch: 丙县 and 己县 (戊县 withdrawn): 2 entries, 1 poverty county (50.0%)
      province 99: 7 entries, 4 places, 4 poverty counties, all covered (100.0%)
    """
    withdrawal = models.Designation.objects.get(unit=world[7])
    services.record_lifecycle(
        models.LifecycleRecord(designation=withdrawal, step="withdrawn", reason="test: withdrawn", source="test", source_kind="official"),
        user=None,
        reason="test: withdrawn",
    )
    return world


def text(response):
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def figure(page, label):
    """The number shown for a label in a <dl class="figures"> block."""
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]*)</dd>", page)
    assert match, label
    return match[1]


def api(client, path):
    response = client.get(f"/api/v1/{path}", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content[:500]
    return response.json()


def csv_rows(body):
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def test_every_door_gives_the_same_numbers(client, english, withdrawn):
    # -- how many demonstration counties (places), designated units and batch entries?
    assert api(client, "counties/?designated=true")["count"] == 4  # main counted the 6 designated units
    home = text(client.get("/en/"))
    assert figure(home, "Demonstration counties (places)") == "4"
    assert figure(home, "Designated units (codes)") == "6"
    assert figure(home, "Batch entries") == "7"
    assert figure(home, "Poverty counties covered, of 832") == "4"
    assert figure(home, "Poverty coverage") == "80.0%"

    listed = text(client.get("/en/counties/"))
    assert "4 demonstration counties (places)</h2>" in listed
    assert "the registry counts 4 demonstration counties" in listed and "and 6 designated units" in listed
    assert "6 designated units</h2>" in text(client.get("/en/counties/?scope=designated"))
    # The province facet of the list of places counts places, as the province pages do.
    # (labelled with its short name in the page's language)
    assert re.search(r'province=990000"[^>]*>Test 99</a> <span class="count">4</span>', listed)

    coverage = api(client, "stats/coverage/")
    assert (coverage["demonstration_counties"], coverage["designated_units"], coverage["batch_entries"]) == (4, 6, 7)
    assert (coverage["poverty_counties_covered"], coverage["poverty_coverage_pct"]) == (4, "80.0")
    assert api(client, "counties/?designated=true")["count"] == 4
    assert api(client, "counties/?designated_unit=true")["count"] == 6

    # -- per province
    province = text(client.get("/en/provinces/990000/"))
    assert figure(province, "Demonstration counties (places)") == "4"
    assert figure(province, "Batch entries") == "7"
    assert figure(province, "Poverty counties covered") == "4 (100.0%)"
    provinces = cells(text(client.get("/en/provinces/")))
    # units in use, poverty counties, demonstration counties (places), batch entries, covered, coverage
    row_cells = "".join(f'<td class="num">{n}</td>' for n in (5, 4, 4, 7, 4, "100.0%"))
    assert f"Test Province</span></a></th>{row_cells}</tr>" in provinces
    row = next(p for p in api(client, "stats/provinces/") if p["code"] == "990000")
    assert (row["demonstration_counties"], row["batch_entries"], row["poverty_counties_covered"]) == (4, 7, 4)

    # -- per batch, after the withdrawal
    batch_page = text(client.get("/en/batches/2016/"))
    assert figure(batch_page, "Batch entries recorded") == "2"
    # Two of the 240 published are known (none illustrative): the page gives the count among the
    # known ones and says the batch is partial, instead of a 50.0% share of the batch.
    assert '<dt>Poverty counties</dt><dd>1 <span class="figure-note">among the 2 known; partial (2 of 240)</span>' in batch_page
    assert re.search(
        r'batches/2016/">2016</a></th>\s*<td data-label="Batch">[^<]*</td>\s*'
        r'<td class="num" data-label="Published size">240</td><td class="num" data-label="Batch entries recorded">2</td>',
        home,
    )
    b2016 = next(b for b in api(client, "batches/")["results"] if b["year"] == 2016)
    assert (b2016["recorded_designations"], b2016["illustrative_designations"], b2016["poverty_counties"]) == (2, 0, 1)
    s2016 = next(b for b in api(client, "stats/batches/") if b["year"] == 2016)
    assert (s2016["size"], s2016["poverty_counties"], s2016["poverty_share_pct"]) == (2, 1, "50.0")
    # The list's batch-year facet counts the places designated in 2016: 丙市 (as 丙县) and 己县.
    assert re.search(r'batch_year=2016"[^>]*>2016</a> <span class="count">2</span>', listed)
    assert api(client, "counties/?designated=true&batch_year=2016")["count"] == 2

    # -- the exports: the same rows, in the same columns, from the page and from the API
    page_csv = csv_rows(text(client.get("/counties/export.csv")))
    api_csv = csv_rows(text(client.get("/api/v1/counties/?designated=true&format=csv")))
    assert list(page_csv[0]) == list(api_csv[0])
    assert [r["code"] for r in page_csv] == [r["code"] for r in api_csv] == ["990101", "990103", "990106", "990109"]
    by_code = {r["code"]: r for r in api_csv}
    # 乙区 carries 乙县's poverty status and its 2015 designation; 丙市 carries 丙县's and 丁县's.
    assert (by_code["990103"]["poverty_listed_as"], by_code["990103"]["exit_year"]) == ("990102", "2016")
    assert by_code["990103"]["designations"] == "2015:990102:official; 2019:990103:official"
    assert by_code["990106"]["poverty_listed_as"] == "990104; 990105"
    assert [(r["code"], r["designations"]) for r in page_csv] == [(r["code"], r["designations"]) for r in api_csv]


def test_home_list_provinces_and_api_agree_on_the_reference_data(client):
    """The issue's numbers: main's home said 1199, the list 1218 units, the API 1218, /provinces/
    河北 70 and the list's facet 河北省 74. Now each door shows the places, and says so."""
    places = api(client, "stats/coverage/")["demonstration_counties"]
    assert api(client, "counties/?designated=true")["count"] == places  # main: 1218 against 1199
    assert figure(text(client.get("/")), "示范县（按地方计）") == f"{places:,}"
    assert f"{places:,} 个示范县（按地方计）</h2>" in text(client.get("/counties/"))
    assert sum(p["demonstration_counties"] for p in api(client, "stats/provinces/")) == places
    hebei = next(p for p in api(client, "stats/provinces/") if p["code"] == "130000")["demonstration_counties"]
    assert f'<span class="count">{hebei}</span>' in text(client.get("/counties/?province=130000"))
    assert re.search(rf'province=130000"[^>]*>河北</a> <span class="count">{hebei}</span>', text(client.get("/counties/")))
    assert api(client, "counties/?designated=true&province=130000")["count"] == hebei


def test_batch_counts_agree_after_a_withdrawal(client):
    entry = models.Designation.objects.filter(batch__year=2016, source_kind="illustrative").order_by("pk").first()
    services.record_lifecycle(
        models.LifecycleRecord(designation=entry, step="withdrawn", reason="test: withdrawn", source="test", source_kind="official"),
        user=None,
        reason="test: withdrawn",
    )
    # 240 entries less the withdrawn one; all but the real ones illustrative: the same at every door.
    real = models.Designation.objects.filter(batch__year=2016).exclude(source_kind="illustrative").count()
    size, illustrative = 239, 239 - real
    home = text(client.get("/"))
    assert re.search(
        rf'batches/2016/">2016</a></th>\s*<td data-label="批次">[^<]*</td>\s*'
        rf'<td class="num" data-label="公布数量">240</td><td class="num" data-label="已记录的批次条目">{size}</td>',
        home,
    )
    assert f"{illustrative} 条示意记录" in home
    assert figure(text(client.get("/batches/2016/")), "已记录的批次条目") == str(size)
    b2016 = next(b for b in api(client, "batches/?year=2016")["results"])
    assert (b2016["recorded_designations"], b2016["illustrative_designations"]) == (size, illustrative)
    s2016 = next(b for b in api(client, "stats/batches/") if b["year"] == 2016)
    assert (s2016["size"], s2016["illustrative_entries"], s2016["poverty_counties"]) == (size, illustrative, b2016["poverty_counties"])
