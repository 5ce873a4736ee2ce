"""Every export door writes through the one table writer (counties.reads.tables): text that a spreadsheet
would run as a formula comes out inert, numbers stay numbers, and no stored text makes an export fail."""

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from counties import models
from counties.reads import tables

from .conftest import run_command
from .factories import DesignationFactory, ProvinceFactory, UnitFactory

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example","x")'
CMD = "+cmd|' /C calc'!A0"
SUM = "@SUM(1)"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (CMD, "'" + CMD),
        (SUM, "'" + SUM),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.5", "-12.5"),  # text that is only a number cannot run anything
        ("宣化区", "宣化区"),
        ("a=b", "a=b"),
        (-5, -5),  # numbers stay numbers
        (None, None),
        ("坏\x0b名", "坏\ufffd名"),  # XML cannot carry it
    ],
)
def test_cell(value, written):
    assert tables.cell(value) == written


@pytest.fixture
def hostile():
    """A unit, a designation and a province carrying the three payloads of the issue."""
    province = ProvinceFactory(name_zh=SUM)
    unit = UnitFactory(name_en=HYPERLINK)
    designation = DesignationFactory(
        unit=unit, batch=models.Batch.objects.get(year=2019), source=CMD, name_as_reported=HYPERLINK, source_note=SUM
    )
    return province, unit, designation


def csv_rows(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")  # the writer's BOM, on every door
    return list(csv.DictReader(io.StringIO(text[1:])))


def xlsx_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    for row in sheet.iter_rows():
        assert all(cell.data_type != "f" for cell in row)  # never a live formula
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_public_downloads(client, hostile):
    _, unit, _ = hostile
    response = client.get("/counties/export.csv?scope=all&province=990000")
    assert response.status_code == 200
    [row] = csv_rows(response.content)
    assert row["name_en"] == "'" + HYPERLINK
    response = client.get("/counties/export.xlsx?scope=all&province=990000")
    header, row = xlsx_rows(response.content)
    assert row[header.index("name_en")] == "'" + HYPERLINK
    assert row[header.index("code")] == unit.key


def test_api_csv_and_the_statistics_downloads(client, hostile):
    [row] = csv_rows(client.get("/api/v1/designations/?province=990000&format=csv").content)
    assert (row["source"], row["name_as_reported"], row["source_note"]) == ("'" + CMD, "'" + HYPERLINK, "'" + SUM)
    provinces = csv_rows(client.get("/api/v1/stats/provinces/?format=csv").content)
    [test_province] = [p for p in provinces if p["code"] == "990000"]
    assert test_province["name_zh"] == "'" + SUM


def test_coverage_report_csv(hostile):
    output = run_command("coverage_report", "--format", "csv", "--section", "provinces")
    rows = list(csv.DictReader(io.StringIO(output)))
    [test_province] = [p for p in rows if p["code"] == "990000"]
    assert test_province["name_zh"] == "'" + SUM
    assert rows[0]["code"] == "110000"  # no BOM on a terminal: the first header is clean


def admin_export(admin_client, province, file_format):
    url = reverse("admin:counties_designation_export") + f"?unit__province__id__exact={province.pk}"
    fields = ("code", "batch_year", "batch_sequence", "name_as_reported", "source", "source_note")
    return admin_client.post(url, {"format": file_format, "resource": "0", **{f"designationresource_{f}": "on" for f in fields}})


def test_admin_exports(admin_client, hostile):
    province, unit, _ = hostile
    response = admin_export(admin_client, province, "0")
    [row] = csv_rows(response.content)
    assert (row["code"], row["source"], row["name_as_reported"]) == (unit.key, "'" + CMD, "'" + HYPERLINK)
    response = admin_export(admin_client, province, "1")
    assert response["Content-Type"] == tables.XLSX_CONTENT_TYPE
    header, row = xlsx_rows(response.content)
    assert row[header.index("source")] == "'" + CMD
    assert row[header.index("batch_sequence")] == 1  # a number, not text


def test_admin_export_columns_are_labelled_as_the_import_preview_labels_them(admin_client):
    for language, code, year in (("zh-hans", "单位代码", "批次年份"), ("en", "unit code", "batch year")):
        with translation.override(language):  # the admin's address in that language
            url = reverse("admin:counties_designation_export")
        fields = admin_client.get(url).context["form"].fields
        assert fields["designationresource_code"].label == f"{code} (code)"
        assert fields["designationresource_batch_year"].label == f"{year} (batch_year)"


def test_admin_offers_only_csv_and_xlsx(admin_client):
    for view in ("export", "import"):
        page = admin_client.get(reverse(f"admin:counties_designation_{view}")).content.decode()
        formats = page.split('name="format"')[1].split("</select>")[0]
        assert re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', formats) == ["csv", "xlsx"]


def test_stored_control_characters_never_break_an_export(client, admin_client):
    """A \\x0b in stored text (written past the validators) made the public XLSX a 500 and the
    admin's XLSX export an HTML page."""
    unit = UnitFactory(name_zh="坏\x0b名")
    DesignationFactory(unit=unit, batch=models.Batch.objects.get(year=2019), name_as_reported="x\x0by")
    response = client.get("/counties/export.xlsx?scope=all&province=990000")
    assert response.status_code == 200
    header, row = xlsx_rows(response.content)
    assert row[header.index("name_zh")] == "坏\ufffd名"
    response = admin_export(admin_client, unit.province, "1")
    assert response.status_code == 200
    assert response.content.startswith(b"PK")  # a real XLSX (a zip), not a page
    header, row = xlsx_rows(response.content)
    assert row[header.index("name_as_reported")] == "x\ufffdy"
