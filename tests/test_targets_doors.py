"""Targets and results through every door: the import (command line and admin, preview, errors,
provincial scope, atomicity), the admin lists, the county, batch and statistics pages, the API and
`coverage_report`, with the same numbers on each."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError
from django.db import connection
from django.urls import reverse

from counties import models
from counties.caching import token as data_token
from counties.caching.token import mark_data_changed
from counties.models.staff import PROVINCIAL_EDITORS
from counties.models.targets import Assessment, Indicator, IndicatorValue, Pairing
from counties.reads.statistics import targets

from .conftest import cells, confirm, import_in_admin, run_command
from .factories import csv_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "examples" / "indicator_values_illustrative.csv"
HEADER = "code,year,indicator,value,source,source_kind\n"


def commit_callbacks():
    """Run and drop the on-commit callbacks queued so far, as a commit would: the test's own
    transaction never commits, and a data-version change still queued makes later writes of the
    same transaction queue none of their own (mark_data_changed)."""
    for _ids, callback, _robust in connection.run_on_commit:
        callback()
    connection.run_on_commit.clear()


@pytest.fixture
def example():
    """The example file in the repository, imported as a newcomer would."""
    run_command("import_indicator_values", str(EXAMPLE))
    commit_callbacks()
    return models.Unit.objects.get(key="130705")


# -- import -------------------------------------------------------------------------------------


def test_example_file_imports_and_is_idempotent(example):
    assert IndicatorValue.objects.count() == 12
    assert set(IndicatorValue.objects.values_list("source_kind", flat=True)) == {"illustrative"}
    value = IndicatorValue.objects.get(unit__key="130721", year=2015, indicator__code="ec_transaction_volume")
    assert (
        value.value == Decimal("26000") and value.history.get().history_change_reason == "imported from indicator_values_illustrative.csv"
    )
    assert "Nothing to change: all 12 records of the file match the registry already." in run_command(
        "import_indicator_values", str(EXAMPLE)
    )


BAD = {
    "unknown header": (HEADER.strip() + ",colour\n130705,2019,parcels,1,doc,official,red\n", "unknown column(s): colour"),
    "missing header": ("code,year,indicator\n130705,2019,parcels\n", "missing column(s): value, source, source_kind"),
    "unknown indicator": (
        HEADER + "130705,2019,sales,1,doc,official\n",
        "sales is not an indicator of the catalogue (ec_transaction_volume,",
    ),
    "retired code": (HEADER + "130721,2019,parcels,1,doc,official\n", "use its successor 130705 (宣化区)"),
    "negative value": (HEADER + "130705,2019,parcels,-1,doc,official\n", "the value -1 is negative"),
    "not a number": (HEADER + "130705,2019,parcels,many,doc,official\n", "many is not a number"),
    "year out of range": (HEADER + "130705,1999,parcels,1,doc,official\n", "the year 1999 is out of range (2000–2100)"),
    "duplicate": (
        HEADER + "130705,2019,parcels,1,doc,official\n130705,2019,parcels,2,doc,official\n",
        "appears earlier in the file (row 2)",
    ),
    "bad source kind": (HEADER + "130705,2019,parcels,1,doc,guess\n", "guess is not one of official"),
}


@pytest.mark.parametrize("content,message", BAD.values(), ids=BAD.keys())
def test_each_error_is_named_and_nothing_is_written(tmp_path, content, message):
    if content.startswith(HEADER):  # a valid first row proves the file is all or nothing
        content = HEADER + "130705,2018,people_trained,5,doc,official\n" + content.removeprefix(HEADER)
    path = csv_file(tmp_path, content, "values.csv")
    with pytest.raises(CommandError) as error:
        run_command("import_indicator_values", str(path))
    assert message in str(error.value)
    assert not IndicatorValue.objects.exists()


def test_import_updates_a_value_and_bumps_the_data_token(tmp_path, django_capture_on_commit_callbacks):
    run_command("import_indicator_values", str(csv_file(tmp_path, HEADER + "130705,2019,parcels,100,doc,official\n", "a.csv")))
    commit_callbacks()
    token = data_token.data_version()
    # The token changes once the import's transaction commits (the test's own transaction never does).
    with django_capture_on_commit_callbacks(execute=True):
        out = run_command("import_indicator_values", str(csv_file(tmp_path, HEADER + "130705,2019,parcels,120.5,doc2,official\n", "b.csv")))
    assert "0 created, 1 changed" in out
    assert IndicatorValue.objects.get().value == Decimal("120.5")
    assert data_token.data_version() != token  # cached statistics see the change


def test_admin_import_previews_then_commits(admin_client, admin_user):
    content = HEADER + "130705,2019,parcels,100,doc,official\n130705,2019,people_trained,30,doc,official\n"
    preview = import_in_admin(admin_client, "indicatorvalue", content)
    assert preview.status_code == 200 and not IndicatorValue.objects.exists()  # the preview writes nothing
    assert confirm(admin_client, "indicatorvalue", preview).status_code == 302
    record = IndicatorValue.objects.get(indicator__code="parcels").history.get()
    assert (record.history_type, record.history_user, record.history_change_reason) == ("+", admin_user, "2016 roster received")


def test_the_admin_preview_speaks_of_indicator_values_not_of_designations(admin_client):
    page = import_in_admin(admin_client, "indicatorvalue", HEADER + "130705,2019,parcels,100,doc,official\n").content.decode()
    assert "indicator values: 1 created, 0 changed, 0 unchanged." in page
    assert "illustrative designations" not in page and "funding records" not in page
    # Its cells are per year and province, with nothing removed.
    assert "<th>year</th><th>province</th><th>created</th><th>changed</th></tr>" in page
    assert "<td>2019</td><td>河北省</td><td>1</td><td>0</td></tr>" in page


def test_an_empty_indicator_is_named_in_the_readers_language():
    from django.utils import translation

    from counties.writes.imports.targets import IndicatorWidget

    with translation.override("zh-hans"), pytest.raises(ValueError, match=r"^（空） 不是指标目录中的指标（"):
        IndicatorWidget().clean("")


def test_provincial_editor_imports_only_their_province(tmp_path, client):
    user = User.objects.create_user("hebei", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=PROVINCIAL_EDITORS))
    models.StaffProfile.objects.create(user=user, province=models.Province.objects.get(code="130000"))
    path = csv_file(tmp_path, HEADER + "130705,2019,parcels,1,doc,official\n110101,2019,parcels,1,doc,official\n")
    with pytest.raises(CommandError, match="110101 is in 北京市; you may import records of 河北省 only"):
        run_command("import_indicator_values", str(path), "--user", "hebei")
    assert not IndicatorValue.objects.exists()
    client.force_login(user)
    preview = import_in_admin(client, "indicatorvalue", HEADER + "110101,2019,parcels,1,doc,official\n")
    assert "you may import records of 河北省 only" in preview.content.decode()
    assert confirm(client, "indicatorvalue", preview).status_code != 302 or not IndicatorValue.objects.exists()
    assert not IndicatorValue.objects.exists()
    # Their own province imports.
    run_command(
        "import_indicator_values", str(csv_file(tmp_path, HEADER + "130705,2019,parcels,1,doc,official\n", "own.csv")), "--user", "hebei"
    )
    assert IndicatorValue.objects.get().history.get().history_user == user


def test_import_template_download(admin_client):
    response = admin_client.get(reverse("admin:counties_indicatorvalue_import_template"))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "code,year,indicator,value,source,source_kind,source_note"
    assert lines[1].startswith("130705,2019,ec_transaction_volume,52000,")


# -- admin --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["indicator", "indicatorvalue", "assessment", "pairing"])
def test_admin_lists_with_filters(admin_client, example, model):
    response = admin_client.get(reverse(f"admin:counties_{model}_changelist"))
    assert response.status_code == 200
    assert 'id="changelist-filter"' in response.content.decode()


def test_admin_edit_bumps_token_and_keeps_history(admin_client, example, django_capture_on_commit_callbacks):
    value = IndicatorValue.objects.get(unit__key="130705", year=2019, indicator__code="people_trained")
    token = data_token.data_version()
    url = reverse("admin:counties_indicatorvalue_change", args=[value.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(unit=value.unit_id, indicator=value.indicator_id, value="1300", change_reason="corrected by the bureau")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    value.refresh_from_db()
    assert value.value == Decimal("1300")
    assert value.history.first().history_change_reason == "corrected by the bureau"
    assert data_token.data_version() != token


def test_provincial_editor_cannot_assess_another_province(client):
    user = User.objects.create_user("hebei2", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=PROVINCIAL_EDITORS))
    models.StaffProfile.objects.create(user=user, province=models.Province.objects.get(code="130000"))
    client.force_login(user)
    designation = models.Designation.objects.counted().exclude(unit__province__code="130000").select_related("batch").first()
    response = client.post(
        reverse("admin:counties_assessment_add"),
        {"designation": designation.pk, "year": designation.batch.year + 2, "result": "passed", "source": "doc", "source_kind": "official"},
    )
    assert response.status_code == 200
    assert "You may change records of 河北省 only" in response.content.decode()
    assert not Assessment.objects.exists()


# -- pages --------------------------------------------------------------------------------------


def test_county_section_shows_series_status_and_chart(client, example):
    page = client.get(reverse("counties:county", args=["130705"])).content.decode()
    assert "Targets and results" in page
    assert "E-commerce transaction volume" in page
    assert page.count('class="chart"') >= 2  # one chart per reported indicator
    assert "30.0%" in page and "24.9%" in page  # 2015 met, 2016 missed (a year on average), across the code change
    assert "not reported" in page and "no value for the year before" in page
    assert "Illustrative data." in page


def test_a_value_reads_the_same_in_the_chart_as_in_its_table(client, example):
    page = cells(client.get(reverse("counties:county", args=["130705"])).content.decode())
    # The chart's tooltip wrote str() of the normalised value: 2.6E+4 beside the table's 26,000.
    # A growth rule's bar names the average a year since the base year, which judges it.
    assert "<title>2015: 26,000 (+30.0% a year since 2014; +30.0% on the year before) · met</title>" in page
    assert "<title>2016: 31,200 (+24.9% a year since 2014; +20.0% on the year before) · missed</title>" in page and "E+" not in page
    assert '<td class="num">26,000</td>\n    <td class="num">30.0%</td>' in page


def test_county_without_values_says_who_reports_them(client):
    page = client.get(reverse("counties:county", args=["110101"])).content.decode()
    assert "No values have been reported for this county." in page
    assert "reported each year by the county's commerce department" in page
    assert "No assessment recorded" in page and "No pairing" in page


def test_county_page_query_count_does_not_grow_with_values(client, tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("counties:county", args=["130705"])).status_code == 200
        return len(captured)

    run_command("import_indicator_values", str(csv_file(tmp_path, HEADER + "130705,2019,parcels,1,doc,official\n", "one.csv")))
    one = queries()
    run_command("import_indicator_values", str(EXAMPLE))  # twelve more values, five indicators
    # The same queries: the page's own, then the place's lineage, values, designations,
    # assessments, pairings and the indicator catalogue, whatever the number of values.
    assert queries() == one


def test_batch_page_assessment_summary(client, example):
    designation = models.Designation.objects.counted().filter(batch__year=2016).first()
    Assessment.objects.create(
        designation=designation, year=2018, result="excellent", score=Decimal("95"), source="doc", source_kind="official"
    )
    page = client.get(reverse("counties:batch", args=[2016])).content.decode()
    assert "Assessment and targets" in page
    size = models.Designation.objects.counted().filter(batch__year=2016).count()
    assert f"<dd>1 / {size}</dd>" in page
    assert "<dd>95.0</dd>" in page
    empty = client.get(reverse("counties:batch", args=[2017])).content.decode()
    assert "No assessment of this batch is recorded." in empty


def test_statistics_section(client, example):
    page = cells(client.get(reverse("counties:statistics") + "?as_of=2019").content.decode())
    assert "The three full coverages, end of 2019" in page
    assert "National online retail sales" in page
    for figure in ("0.18", "0.895", "1.245", "1.7"):
        assert f'<td class="num">{figure}</td>' in page
    # As of 2019 the later years (2020's 1.79 and 0.301, 2021's 2.05) are left out; the latest shows them.
    latest = cells(client.get(reverse("counties:statistics")).content.decode())
    for figure in ("1.79", "2.05", "0.301"):
        assert f'<td class="num">{figure}</td>' not in page and f'<td class="num">{figure}</td>' in latest
    assert "http://csvscnns.com/news/105298301/70661.html" in page
    assert "Target attainment by batch" in page


# -- API ----------------------------------------------------------------------------------------


def test_api_lists_and_filters(client, example):
    data = client.get("/api/v1/indicators/?rule=growth_at_least").json()
    assert [i["code"] for i in data["results"]] == ["ec_transaction_volume"]
    assert data["results"][0]["rule_threshold_pct"] == "30.00"
    # An old code finds the whole place's values (宣化县's and 宣化区's).
    values = client.get("/api/v1/indicator-values/?code=130721&indicator=ec_transaction_volume").json()["results"]
    assert [(v["code"], v["year"], v["value"]) for v in values] == [
        ("130705", 2016, "31200.0000"),
        ("130705", 2018, "45000.0000"),
        ("130705", 2019, "58500.0000"),
        ("130721", 2014, "20000.0000"),
        ("130721", 2015, "26000.0000"),
    ]
    assert client.get("/api/v1/indicator-values/?year=2019&indicator=poor_villages").json()["count"] == 1
    assert client.get("/api/v1/indicator-values/?year=20x9").status_code == 400
    assert client.get("/api/v1/indicator-values/?indicator=nope").status_code == 400
    assert client.get("/api/v1/assessments/?result=maybe").status_code == 400
    assert client.get("/api/v1/pairings/?active_in=2019").json()["count"] == 0
    assert client.get("/api/v1/stats/targets/?indicator=nope").status_code == 400


def test_api_records_are_read_only(client, admin_user):
    assert client.post("/api/v1/indicator-values/", {}).status_code in (401, 403, 405)


def test_api_list_query_count_is_fixed(client, example, django_assert_num_queries):
    # Queries: the conditional-GET data token, the count, then one page of values joined to their
    # unit and indicator, whatever the page size.
    for size in (1, 12):
        with django_assert_num_queries(3):
            assert client.get(f"/api/v1/indicator-values/?page_size={size}").status_code == 200


def test_same_numbers_on_page_api_and_report(client, example):
    pairing_unit = models.PovertyStatus.objects.select_related("unit").first().unit
    Pairing.objects.create(
        unit=pairing_unit, partner_name="某平台", partner_kind="platform", start_year=2018, source="doc", source_kind="official"
    )
    mark_data_changed()
    api = client.get("/api/v1/stats/three-coverages/?as_of=2019").json()
    report = json.loads(run_command("coverage_report", "--as-of", "2019", "--format", "json", "--section", "three_coverages"))
    assert report["three_coverages"] == api
    assert (api["platform_covered"], api["platform_coverage_pct"]) == (1, "0.1")  # 1 / 832
    assert (api["village_reporting_counties"], api["poor_villages"], api["poor_villages_covered"], api["village_coverage_pct"]) == (
        1,
        "40.0000",
        "36.0000",
        "90.0",
    )
    page = client.get(reverse("counties:statistics") + "?as_of=2019").content.decode()
    # Each headline says how many counties it rests on.
    assert '<dd>90.0% <span class="hint">(1 county reported)</span></dd>' in page
    assert '<dd>0.1% <span class="hint">(1 of 832 poverty counties with a pairing recorded)</span></dd>' in page
    # The county's series: 宣化县 designated in 2015 (whatever the illustrative roster says).
    models.FundingAllocation.objects.filter(unit__key__in=["130721", "130705"]).delete()
    models.Designation.objects.filter(unit__key__in=["130721", "130705"]).delete()
    models.Designation.objects.create(
        unit=models.Unit.objects.get(key="130721"), batch=models.Batch.objects.get(year=2015), source="doc", source_kind="official"
    )
    mark_data_changed()
    series = client.get("/api/v1/counties/130721/targets/").json()
    assert (series["code"], series["designated_from"]) == ("130705", 2015)
    volume = next(s for s in series["series"] if s["indicator"] == "ec_transaction_volume")
    # Judged on the compound average a year since 2014 (20,000): 26,000 is 30.0%, 31,200 is
    # √1.56 − 1 = 24.9%, 45,000 is ⁴√2.25 − 1 = 22.5%, 58,500 is ⁵√2.925 − 1 = 23.9% a year.
    assert [(y["year"], y["status"], y["growth_pct"], y["average_growth_pct"]) for y in volume["years"]] == [
        (2014, "not_applicable", None, None),
        (2015, "met", "30.0", "30.0"),
        (2016, "missed", "20.0", "24.9"),
        (2017, "not_reported", None, None),
        (2018, "missed", None, "22.5"),
        (2019, "missed", "30.0", "23.9"),
    ]
    assert (volume["judgement"]["year"], volume["judgement"]["status"], volume["judgement"]["average_growth_pct"]) == (
        2019,
        "missed",
        "23.9",
    )
    place = targets.place_targets(models.Unit.objects.get(key="130705"))
    assert [y.status for y in place.series[0].years] == [y["status"] for y in volume["years"]]
    # Attainment and national series: the API equals the report.
    assert (
        client.get("/api/v1/stats/targets/").json()
        == json.loads(run_command("coverage_report", "--format", "json", "--section", "targets"))["targets"]
    )
    national = client.get("/api/v1/stats/national-series/").json()
    assert [p["trillion_yuan"] for p in national] == [
        "0.180",
        "0.353",
        "0.895",
        "1.245",
        "1.370",
        "1.700",
        "1.790",
        "2.050",
        "2.170",
        "0.301",
    ]
    assert [p["definition"] for p in national][:3] == ["before_2016", "before_2016", "from_2016"]


def test_coverage_report_csv_and_table_formats(example):
    csv_text = run_command("coverage_report", "--format", "csv", "--section", "national")
    assert csv_text.splitlines()[0].startswith("series,year,trillion_yuan")
    assert "rural_online_retail_sales,2016,0.895,0.89454,R2016" in csv_text
    table = run_command("coverage_report", "--section", "three_coverages", "--as-of", "2018")
    assert "three_coverages (as of 2018)" in table


def test_indicator_catalogue_is_seeded():
    assert list(Indicator.objects.filter(rule__in=["rises", "falls"]).values_list("code", "rule")) == [
        ("online_share_of_retail", "rises"),
        ("logistics_cost_per_parcel", "falls"),
    ]


def test_xlsx_import_with_numbers_typed_as_numbers(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "year", "indicator", "value", "source", "source_kind"])
    sheet.append([130705, 2019, "logistics_cost_per_parcel", 6.75, "doc", "official"])
    path = tmp_path / "values.xlsx"
    workbook.save(path)
    run_command("import_indicator_values", str(path))
    value = IndicatorValue.objects.get()
    assert (value.unit.key, value.year, value.value) == ("130705", 2019, Decimal("6.75"))


def test_xlsx_cells_of_the_wrong_kind_and_empty_text_cells(tmp_path):
    """The designations' reading of XLSX cells: a date where a number is expected is named, and an
    empty source note is "" (a NULL one made the whole file fail in the database)."""
    from datetime import datetime

    from openpyxl import Workbook

    def xlsx(year, value):
        workbook = Workbook()
        workbook.active.append(["code", "year", "indicator", "value", "source", "source_kind", "source_note"])
        workbook.active.append([130705, year, "parcels", value, "doc", "official", None])
        path = tmp_path / "values.xlsx"
        workbook.save(path)
        return str(path)

    with pytest.raises(CommandError) as error:
        run_command("import_indicator_values", xlsx(datetime(2019, 1, 1), datetime(2019, 3, 1)))
    assert str(error.value).splitlines()[1:] == [
        "row 1: year: a date (2019-01-01) where a year is expected",
        "row 1: value: a date (2019-03-01) where a number is expected",
    ]
    run_command("import_indicator_values", xlsx(2019, 100))
    assert IndicatorValue.objects.get().source_note == ""


def test_statistics_page_names_each_measure_and_the_national_break(client):
    page = cells(client.get(reverse("counties:statistics")).content.decode())
    # No pairing and no village report recorded: "not recorded", never 0.0% (pairings) or "—" (villages).
    assert "Poverty counties paired with a platform, enterprise or county</dt><dd>not recorded</dd>" in page
    assert "E-commerce coverage of poor villages</dt><dd>not recorded</dd>" in page
    # The service system is a measure of its own, with the published national totals and their sources.
    assert "The service system (two centres and a station)" in page
    assert "County logistics centres in operation</dt><dd>not recorded</dd>" in page
    assert "http://zgxczx.cn/content_46121.html" in page and "150,000+" in page
    # The national series: every year to the page's (2022's 2.17 in the API), the 2016 break in the
    # caption and the table.
    for figure in ("0.353", "1.37"):
        assert f'<td class="num">{figure}</td>' in page
    assert "Change of definition in 2016" in page and "no published figure" not in page
    assert "earlier definition (2014–2015), not comparable with later years" in page
    assert "Rural, from 2016" in page and "including service retail (from 2016)" in page


def test_county_page_and_api_show_the_notice_targets(client):
    u = models.Unit.objects.get(key="110101")
    models.Designation.objects.filter(unit=u).delete()
    models.Designation.objects.create(unit=u, batch=models.Batch.objects.get(year=2019), source="doc", source_kind="official")
    for code, year, value in (("online_retail_sales", 2018, "100"), ("online_retail_sales", 2020, "140")):
        IndicatorValue.objects.create(
            unit=u, indicator=Indicator.objects.get(code=code), year=year, value=Decimal(value), source="doc", source_kind="official"
        )
    mark_data_changed()
    page = client.get(reverse("counties:county", args=["110101"])).content.decode()
    assert "Targets of the 2018 and 2019 notices" in page
    assert "18.3% a year (national 14.3%)" in page
    data = client.get("/api/v1/counties/110101/targets/").json()
    faster = next(n for n in data["notice_targets"] if n["target"] == "online_retail_faster_2019")
    assert (faster["status"], faster["value"], faster["national_growth_pct"], faster["batch_year"]) == ("met", "18.3000", "14.3", 2019)
    assert {n["target"] for n in data["notice_targets"]} == {"village_coverage_2019", "people_trained_2019", "online_retail_faster_2019"}
    assert client.get("/api/v1/stats/service-system/?as_of=2019").json()["village_stations"] == {
        "indicator": "village_service_stations",
        "reporting_counties": 0,
        "total": None,
        "includes_illustrative": False,
    }
