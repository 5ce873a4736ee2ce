"""The statistics page's downloads follow the page's year: every CSV link carries its `as_of`, and
every download stops where the page's table stops, with the page's figures."""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from counties import models
from counties.reads import statistics
from counties.reads.statistics import targets

from .conftest import run_command
from .factories import FundingAllocationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "examples" / "indicator_values_illustrative.csv"
DOWNLOADS = [
    "coverage/series",
    "batches",
    "provinces",
    "funding",
    "exits",
    "three-coverages/series",
    "targets",
    "notice-targets",
    "national-series",
]


def rows(client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def downloads(client, path: str) -> dict[str, str]:
    page = client.get(path).content.decode()
    found = re.findall(r'href="/api/v1/stats/([a-z/-]+)/\?([^"]*format=csv[^"]*)"', page)
    return {name: f"/api/v1/stats/{name}/?{query.replace('&amp;', '&')}" for name, query in found}


@pytest.fixture
def values_reported():
    run_command("import_indicator_values", str(EXAMPLE))


def test_every_download_link_carries_the_page_year(client, values_reported):
    for path, year in (("/en/statistics/?as_of=2018", 2018), ("/statistics/?as_of=2016", 2016), ("/en/statistics/", 2021)):
        links = downloads(client, path)
        assert sorted(links) == sorted(DOWNLOADS)
        assert all(f"as_of={year}&format=csv" in url for url in links.values()), links


def test_each_download_stops_at_the_page_year_with_the_page_figures(client, values_reported):
    hebei = models.Unit.objects.get(code="130102")
    FundingAllocationFactory(unit=hebei, fiscal_year=2017, amount=Decimal("1500000.00"))
    FundingAllocationFactory(unit=hebei, fiscal_year=2020, amount=Decimal("2500000.00"))
    links = downloads(client, "/en/statistics/?as_of=2018")
    page = client.get("/en/statistics/?as_of=2018").content.decode()

    coverage = rows(client, links["coverage/series"])
    assert [r["as_of"] for r in coverage] == ["2014", "2015", "2016", "2017", "2018"]
    assert coverage[-1]["demonstration_counties"] == str(statistics.coverage(2018).demonstration_counties)
    assert coverage[-1]["poverty_coverage_pct"] == "88.6"  # 737 of the 832 at end-2018 (DESIGN.md)

    batches = rows(client, links["batches"])
    assert [r["year"] for r in batches] == ["2014", "2015", "2016", "2017", "2018"]
    assert [r["size"] for r in batches] == ["56", "200", "240", "260", "260"]

    provinces = rows(client, links["provinces"])
    assert sum(int(r["demonstration_counties"]) for r in provinces) == statistics.coverage(2018).demonstration_counties

    funding = rows(client, links["funding"])
    by_year = {r["key"]: (Decimal(r["total_yuan"]), r["allocations"]) for r in funding if r["group"] == "by_year"}
    assert by_year == {"2015": (Decimal("3700000000.00"), "200"), "2017": (Decimal("1500000.00"), "1")}  # not 2020's
    assert sum(Decimal(r["total_yuan"]) for r in funding if r["group"] == "by_province") == Decimal("3701500000.00")  # nor here
    table = page.split('id="h-funding"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="row">(\d{4})</th>', table) == ["2015", "2017"]

    exits = rows(client, links["exits"])
    assert {r["exit_year"]: r["poverty_counties"] for r in exits} == {"2016": "28", "2017": "125", "2018": "283"}

    three = rows(client, links["three-coverages/series"])
    assert [r["as_of"] for r in three] == ["2014", "2015", "2016", "2017", "2018"]
    assert three[-1]["demonstration_covered"] == "737"

    attainment = rows(client, links["targets"])
    assert attainment and max(int(r["year"]) for r in attainment) == 2018 and max(int(r["batch_year"]) for r in attainment) <= 2018
    later = [r for r in targets.target_attainment() if r.year > 2018]
    assert later  # the example reports years after 2018: the download left them out
    reported = [r for r in attainment if r["reported"] != "0"]
    table = page.split('id="h-attainment"')[1].split("</table>")[0]
    assert len(reported) == table.count('<tr><th scope="row">')

    national = rows(client, links["national-series"])
    assert [r["year"] for r in national] == ["2014", "2015", "2016", "2017", "2018"]  # 2015's and 2018's were found
    assert max(p.year for p in targets.national_series()) > 2018


@pytest.mark.parametrize("name", DOWNLOADS)
def test_a_download_without_a_year_keeps_every_year_and_refuses_a_bad_one_as_the_page_does(client, name):
    everything = rows(client, f"/api/v1/stats/{name}/?format=csv")
    until_2014 = rows(client, f"/api/v1/stats/{name}/?as_of=2014&format=csv")
    assert len(until_2014) <= len(everything)
    refused = client.get(f"/api/v1/stats/{name}/?as_of=2030&format=csv")
    assert refused.status_code == 400
    assert "not 2030" in refused.content.decode()
