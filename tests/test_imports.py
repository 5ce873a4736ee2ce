"""Imports of designations, funding and poverty statuses: preview, every error on its row, nothing
half-written, replacement of illustrative records, the command line, history and provinces."""

import io
import re
import zipfile
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import Workbook

from counties import models
from counties.models.staff import DATA_EDITORS, PROVINCIAL_EDITORS
from counties.reads import statistics, tables

from .conftest import confirm, import_in_admin, run_command
from .factories import HEADER, csv_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_clean_file_previews_then_commits(admin_client, admin_user):
    content = HEADER + "110101,2016,new,商建函〔2016〕1号,official\n110102,2016,new,商建函〔2016〕1号,official\n"
    before = models.Designation.objects.count()
    preview = import_in_admin(admin_client, "designation", content)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "process_import" in page or 'name="import_file_name"' in page
    assert models.Designation.objects.count() == before  # the preview writes nothing
    assert page.count("新") + page.count("New") >= 2
    done = confirm(admin_client, "designation", preview)
    assert done.status_code == 302
    created = models.Designation.objects.filter(unit__code__in=["110101", "110102"], batch__year=2016)
    assert created.count() == 2
    record = created.first().history.get()
    assert (record.history_type, record.history_user) == ("+", admin_user)
    assert record.history_change_reason


BAD_FILES = {
    "unknown header": (HEADER.strip() + ",colour\n110101,2016,new,doc,official,red\n", "unknown column(s): colour"),
    "missing header": ("code,batch_year,kind\n110101,2016,designated\n", "missing column(s): source, source_kind"),
    "unknown code": (HEADER + "999999,2016,new,doc,official\n", "unknown code 999999"),
    "retired code": (HEADER + "130721,2019,new,doc,official\n", "use its successor 130705 (宣化区)"),
    "duplicate row": (
        HEADER + "110101,2016,new,doc,official\n110101,2016,new,doc,official\n",
        "appears earlier in the file (row 2)",
    ),
    "no such batch": (HEADER + "110101,2023,new,doc,official\n", "there is no batch 2023-1"),
    "year out of range": (HEADER + "110101,2013,new,doc,official\n", "the year 2013 is out of range"),
    "fractional year": (HEADER + "110101,2016.5,new,doc,official\n", "row 2: batch_year: 2016.5 is not a year"),
    "infinite year": (HEADER + "110101,inf,new,doc,official\n", "row 2: batch_year: inf is not a year"),
    "unknown kind": (HEADER + "110101,2016,maybe,doc,official\n", "maybe is not one of new, repeat, upgraded"),
}


@pytest.mark.parametrize(("content", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_each_error_is_reported_and_nothing_is_written(tmp_path, content, message):
    # A valid row first, so that "nothing written" means something.
    if content.startswith(HEADER):
        content = HEADER + "110105,2016,new,doc,official\n" + content[len(HEADER) :]
    before = models.Designation.objects.count()
    with pytest.raises(CommandError) as error:
        run_command("import_designations", str(csv_file(tmp_path, content)))
    assert message in str(error.value)
    assert "nothing was imported" in str(error.value)
    assert models.Designation.objects.count() == before
    assert not models.Designation.objects.filter(unit__code="110105", batch__year=2016).exists()


def test_errors_show_in_the_admin_preview_and_cannot_be_confirmed(admin_client):
    content = HEADER + "110101,2016,new,doc,official\n130721,2019,new,doc,official\n"
    preview = import_in_admin(admin_client, "designation", content)
    page = preview.content.decode()
    assert "130705" in page and "宣化区" in page  # the successor is suggested
    assert 'name="import_file_name"' not in page  # no confirm form
    assert not models.Designation.objects.filter(unit__code="110101", batch__year=2016).exists()


FUNDING_HEADER = "code,fiscal_year,level,amount_yuan,source,source_kind\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("110101,2016,central,-5,doc,official", "the amount -5 is negative"),
        ("110101,2016,central,lots,doc,official", "lots is not an amount in yuan"),
        ("110101,1999,central,5,doc,official", "the year 1999 is out of range"),
        ("110101,2016,township,5,doc,official", "township is not one of central, provincial, county"),
        ("130721,2018,central,5,doc,official", "use its successor 130705"),
    ],
)
def test_funding_errors(tmp_path, row, message):
    before = models.FundingAllocation.objects.count()
    with pytest.raises(CommandError, match=re.escape(message)):
        run_command("import_funding", str(csv_file(tmp_path, FUNDING_HEADER + row + "\n", "funding.csv")))
    assert models.FundingAllocation.objects.count() == before


def test_funding_import_writes_decimal_yuan(tmp_path):
    output = run_command(
        "import_funding", str(csv_file(tmp_path, FUNDING_HEADER + '110101,2016,provincial,"1,250,000.50",doc,official\n', "f.csv"))
    )
    assert "1 created" in output
    assert models.FundingAllocation.objects.get(unit__code="110101").amount == models.FundingAllocation._meta.get_field("amount").to_python(
        "1250000.50"
    )


def test_poverty_status_import_updates_and_keeps_unknown_flags(tmp_path):
    header = "code,listed_name,region,exit_year,is_key_county_2012,source,source_kind\n"
    path = csv_file(tmp_path, header + "130721,宣化县,east,2019,,国开办发〔2019〕1号,official\n", "p.csv")
    output = run_command("import_poverty_statuses", str(path))
    assert "1 changed" in output
    status = models.PovertyStatus.objects.get(unit__code="130721")
    assert (status.exit_year, status.is_key_county_2012, status.source_kind) == (2019, None, "official")
    record = status.history.order_by("-history_date").first()
    changes = {c.field: (c.old, c.new) for c in record.diff_against(record.prev_record).changes}
    assert changes["exit_year"] == (2018, 2019)
    assert changes["source_kind"] == ("secondary", "official")


def test_an_import_cannot_list_a_place_twice_nor_an_833rd_poverty_county(tmp_path):
    header = "code,listed_name,region,exit_year,source,source_kind\n"
    # A row checked against what is stored: 宣化区 is 宣化县 (130721), listed already.
    with pytest.raises(CommandError, match=re.escape("row 1: code: 宣化区 (130705) is the same place as 宣化县 (130721)")):
        run_command("import_poverty_statuses", str(csv_file(tmp_path, header + "130705,宣化区,east,2018,doc,official\n", "p.csv")))
    # With one place free, a county outside the list of 832 cannot take it (main took 正定县 and
    # refused only 新乐市, the 833rd): each row is refused for what it is.
    models.PovertyStatus.objects.get(unit__key="130721").delete()
    rows = "130123,正定县,east,2019,doc,official\n130184,新乐市,east,2019,doc,official\n"
    with pytest.raises(CommandError) as refused:
        run_command("import_poverty_statuses", str(csv_file(tmp_path, header + rows, "q.csv")))
    assert "row 1: code: 正定县 (130123) is not one of the 832 poverty counties" in str(refused.value)
    assert "row 2: code: 新乐市 (130184) is not one of the 832 poverty counties" in str(refused.value)
    # Two rows written together for the free place, under two of its codes: the set is checked once
    # they are written, as the rows cannot see each other before (833 statuses).
    rows = "130721,宣化县,east,2018,doc,official\n130705,宣化区,east,2018,doc,official\n"
    with pytest.raises(CommandError, match="Nothing was imported: All 832 poverty counties are listed"):
        run_command("import_poverty_statuses", str(csv_file(tmp_path, header + rows, "r.csv")))
    assert models.PovertyStatus.objects.count() == 831
    assert not models.PovertyStatus.objects.filter(unit__key__in=["130123", "130184", "130721", "130705"]).exists()


def test_official_records_replace_their_cell_and_nothing_else(tmp_path):
    """The replacement rule: official records of a (batch, province) cell replace that cell's
    illustrative records; every other cell (the same batch elsewhere, the province in other
    batches) keeps its own."""
    hebei_2016 = models.Designation.objects.filter(batch__year=2016, unit__province__code="130000", source_kind="illustrative")
    others_2016 = models.Designation.objects.filter(batch__year=2016, source_kind="illustrative").exclude(unit__province__code="130000")
    hebei_2017 = models.Designation.objects.filter(batch__year=2017, unit__province__code="130000", source_kind="illustrative")
    counts = (hebei_2016.count(), others_2016.count(), hebei_2017.count())
    assert counts[0] == 6 and counts[1] > 0 and counts[2] > 0
    path = csv_file(tmp_path, HEADER + "130102,2016,new,财建〔2016〕1号,official\n")
    dry = run_command("import_designations", str(path), "--dry-run")
    assert "1 created, 0 changed, 0 unchanged, 6 illustrative designations removed" in dry
    assert "2016-1 河北省: 1 created, 0 changed, 6 removed" in dry
    assert hebei_2016.count() == 6  # a dry run writes nothing
    output = run_command("import_designations", str(path), "--reason", "2016 notice received")
    assert "1 created, 0 changed, 0 unchanged, 6 illustrative designations removed" in output
    assert (hebei_2016.count(), others_2016.count(), hebei_2017.count()) == (0, counts[1], counts[2])
    removed = models.Designation.history.filter(history_type="-")
    assert removed.count() == 6 and set(removed.values_list("history_change_reason", flat=True)) == {"2016 notice received"}
    assert statistics.coverage(2016).batch_entries == 56 + 200 + 240 - 6 + 1  # the statistics followed


def test_secondary_records_sit_beside_the_illustrative_ones(tmp_path):
    before = models.Designation.objects.filter(source_kind="illustrative").count()
    run_command("import_designations", str(csv_file(tmp_path, HEADER + "130102,2016,new,a newspaper,secondary\n")))
    assert models.Designation.objects.filter(source_kind="illustrative").count() == before


def test_dry_run_writes_nothing(tmp_path):
    path = csv_file(tmp_path, HEADER + "110101,2016,new,doc,official\n")
    output = run_command("import_designations", str(path), "--dry-run")
    assert "1 created, 0 changed, 0 unchanged, 0 illustrative designations removed (0 funding records with them) would be written" in output
    assert not models.Designation.objects.filter(unit__code="110101", batch__year=2016).exists()


def test_xlsx_import_and_code_typed_as_a_number(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "batch_year", "kind", "source", "source_kind"])
    sheet.append([110101, 2016, "new", "doc", "official"])
    path = tmp_path / "designations.xlsx"
    workbook.save(path)
    run_command("import_designations", str(path))
    assert models.Designation.objects.filter(unit__code="110101", batch__year=2016).exists()


def test_unreadable_files_are_refused(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(HEADER.encode() + "110101,2016,new,文件,official\n".encode("gbk"))
    with pytest.raises(CommandError, match=r"not UTF-8 \(it stops being UTF-8 at byte 56\)"):
        run_command("import_designations", str(path))
    renamed = tmp_path / "book.csv"  # an XLSX file (a ZIP archive) named .csv
    renamed.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(CommandError, match=r"This is an Excel \(XLSX\) file, not a CSV"):
        run_command("import_designations", str(renamed))
    with pytest.raises(CommandError, match=r"use a \.csv"):
        run_command("import_designations", str(csv_file(tmp_path, "x", "notes.txt")))


def test_history_records_user_and_reason_from_the_command_line(tmp_path):
    user = User.objects.create_user("importer", is_staff=True)
    user.groups.add(Group.objects.get(name=DATA_EDITORS))
    path = csv_file(tmp_path, HEADER + "110101,2016,new,doc,official\n")
    run_command("import_designations", str(path), "--user", "importer", "--reason", "2016 roster received")
    record = models.Designation.objects.get(unit__code="110101", batch__year=2016).history.get()
    assert (record.history_user, record.history_change_reason) == (user, "2016 roster received")


def test_provincial_editor_cannot_import_another_province(tmp_path, client):
    user = User.objects.create_user("hebei", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=PROVINCIAL_EDITORS))
    models.StaffProfile.objects.create(user=user, province=models.Province.objects.get(code="130000"))
    path = csv_file(tmp_path, HEADER + "110101,2016,new,doc,official\n130705,2019,repeat,doc,official\n")
    with pytest.raises(CommandError, match="110101 is in 北京市; you may import records of 河北省 only"):
        run_command("import_designations", str(path), "--user", "hebei")
    client.force_login(user)
    preview = import_in_admin(client, "designation", HEADER + "110101,2016,new,doc,official\n")
    assert "you may import records of 河北省 only" in preview.content.decode()
    assert not models.Designation.objects.filter(unit__code="110101").exists()


def test_a_record_made_official_by_an_import_loses_the_invented_note(tmp_path):
    record = models.Designation.objects.filter(source_kind="illustrative", batch__year=2019).select_related("unit").first()
    assert record.source_note  # the roster's "invented to reproduce the published figures"
    path = csv_file(tmp_path, f"code,batch_year,source,source_kind\n{record.unit.key},2019,商建函〔2019〕1号,official\n")
    run_command("import_designations", str(path))
    record.refresh_from_db()
    assert (record.source_kind, record.source, record.source_note) == ("official", "商建函〔2019〕1号", "")


def test_the_exporters_formula_guard_is_taken_back_on_import(tmp_path):
    """Export then import of unchanged data changes nothing: `=1+1` was written `'=1+1`."""
    header = "code,batch_year,kind,source,source_kind,name_as_reported\n"
    run_command(
        "import_designations", str(csv_file(tmp_path, header + "110101,2016,new,=HYPERLINK(1),official,=1+1\n")), "--reason", "first"
    )
    record = models.Designation.objects.get(unit__code="110101", batch__year=2016)
    assert (record.source, record.name_as_reported) == ("=HYPERLINK(1)", "=1+1")
    exported = tables.csv_text(
        ["code", "batch_year", "kind", "source", "source_kind", "name_as_reported"],
        [["110101", 2016, "new", record.source, "official", record.name_as_reported]],
        bom=False,
    )
    assert "'=1+1" in exported
    output = run_command("import_designations", str(csv_file(tmp_path, exported, "again.csv")), "--reason", "again")
    record.refresh_from_db()
    assert (record.source, record.name_as_reported) == ("=HYPERLINK(1)", "=1+1")
    assert record.history.count() == 1, output  # nothing changed: no second version
    # An apostrophe the exporter would not have added is the data's own.
    assert tables.uncell("'quoted") == "'quoted" and tables.uncell("'12") == "'12" and tables.uncell("'-5") == "'-5"
    assert tables.uncell("'-x") == "-x" and tables.uncell("'@SUM(A1)") == "@SUM(A1)"


def test_the_preview_names_each_record_it_removes_and_warns_of_hand_edits(admin_client, admin_user):
    from counties.writes.services import save_record

    illustrative = models.Designation.objects.filter(batch__year=2019, unit__province__code="130000", source_kind="illustrative")
    target = illustrative.exclude(unit__key="130125").select_related("unit").first()
    target.is_old_revolutionary_base = True
    save_record(target, user=admin_user, reason="2019 acceptance notice")
    count = illustrative.exclude(unit__key="130125").count()
    preview = import_in_admin(admin_client, "designation", HEADER + "130125,2019,new,商建函〔2019〕1号,official\n")
    page = preview.content.decode()
    assert f"The {count} illustrative designations this import removes" in page
    assert f"2019-1 河北省 {target.unit.name_zh} ({target.unit.key}) — " in page
    assert f"edited by hand: changed by {admin_user.username} on " in page and "(2019 acceptance notice)" in page
    assert page.count("edited by hand") == 1  # the others were only ever written by the roster


# -- what the preview shows of each change ------------------------------------------------------


def illustrative_designations(count):
    return list(models.Designation.objects.filter(source_kind="illustrative", batch__sequence=1).select_related("unit", "batch")[:count])


def designation_row(designation, source):
    return f"{designation.unit.key},{designation.batch.year},{designation.kind},{source},{designation.source_kind}\n"


def preview_cells(response):
    """Each previewed row's cells, by the file's column names."""
    preview = response.context["result"].preview
    return [dict(zip([column for column, _label in preview.columns], row.cells, strict=True)) for row in preview.rows]


def test_the_preview_marks_what_a_row_changes_within_a_value(admin_client):
    [designation] = illustrative_designations(1)
    models.Designation.objects.filter(pk=designation.pk).update(source="商建函〔2019〕12号")
    response = import_in_admin(admin_client, "designation", HEADER + designation_row(designation, "商建函〔2019〕21号"))
    [cells] = preview_cells(response)
    assert cells["source"] == "商建函〔2019〕<del>12</del><ins>21</ins>号"
    assert cells["code"] == designation.unit.key  # unchanged: as it is
    assert "<td>商建函〔2019〕<del>12</del><ins>21</ins>号</td>" in response.content.decode()


def test_a_long_change_is_shown_cut_with_both_whole_values_in_a_box(admin_client):
    # A rewritten 1,900-character source, as in a file at the admin's limits (bench/preview_bench.py):
    # no character diff of it, whose time grows with the square of the change's length.
    [designation] = illustrative_designations(1)
    old, new = "商建函" + "甲乙" * 950 + "号", "商建函" + "丙丁" * 950 + "号"
    models.Designation.objects.filter(pk=designation.pk).update(source=old)
    [cells] = preview_cells(import_in_admin(admin_client, "designation", HEADER + designation_row(designation, new)))
    assert cells["source"] == (
        f"商建函<del>{'甲乙' * 60}…</del><ins>{'丙丁' * 60}…</ins>号"
        f'<details class="import-full-value"><summary>full text</summary><del>{old}</del> <ins>{new}</ins></details>'
    )


def test_the_change_display_escapes_and_cuts_the_unchanged_text_around_a_change():
    from counties.writes.imports.programme import change_html

    assert change_html("a<b", "a<c") == "a&lt;<del>b</del><ins>c</ins>"
    assert change_html("", "new & shiny") == "<ins>new &amp; shiny</ins>"
    assert change_html("same", "same") == "same"
    before, after = "x" * 40 + "1" + "y" * 40, "x" * 40 + "2" + "y" * 40
    assert change_html(before, after, "full text").startswith(f"…{'x' * 30}<del>1</del><ins>2</ins>{'y' * 30}…<details")
    # Of repeated text, the change is placed once: "aaa" to "aaaa" adds one "a".
    assert change_html("aaa", "aaaa") == "aaa<ins>a</ins>"


def test_the_preview_costs_the_same_queries_for_5_and_50_changed_rows(admin_client):
    designations = illustrative_designations(50)

    def queries(rows):
        content = HEADER + "".join(designation_row(d, f"商建函 {'x' * 300} {d.pk}") for d in rows)
        with CaptureQueriesContext(connection) as captured:
            response = import_in_admin(admin_client, "designation", content)
        assert [row.status for row in response.context["result"].preview.rows] == ["update"] * len(rows)
        return len(captured)

    queries(designations[:5])  # from then on each preview also forgets the one before it
    assert queries(designations[:5]) == queries(designations)


# -- row numbers: the file's own, blank rows included -----------------------------------------

# Row 1 is the first row below the header. Rows 2 (empty) and 3 (commas only) are blank: skipped,
# but counted, so the bad row is reported as row 5 and the repeat of row 4 as row 6.
BLANK_ROWS = [
    ["110101", "2016", "new", "doc", "official"],
    [],
    ["", "", "", "", ""],
    ["110102", "2016", "new", "doc", "official"],
    ["110105", "2016", "new", "doc", "officialX"],
    ["110102", "2016", "new", "doc", "official"],
]
BLANK_ROWS_ERRORS = [
    "row 5: source_kind: officialX is not one of official, secondary, unverified, illustrative",
    "row 6: code: the same record appears earlier in the file (row 4)",
]


def blank_rows_csv() -> str:
    return HEADER + "".join(",".join(row) + "\n" for row in BLANK_ROWS)


def blank_rows_xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.append(HEADER.strip().split(","))
    for row in BLANK_ROWS:
        workbook.active.append([cell or None for cell in row])  # a row of empty cells is no row at all
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_rows_are_numbered_as_in_the_file_blank_rows_included(tmp_path, admin_client, file_format):
    content = blank_rows_csv().encode() if file_format == "csv" else blank_rows_xlsx()
    path = tmp_path / f"designations.{file_format}"
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        run_command("import_designations", str(path))
    assert str(error.value).splitlines()[1:] == BLANK_ROWS_ERRORS
    # The admin's preview: the same numbers, with the same messages; the blank rows are not listed.
    response = import_in_admin(admin_client, "designation", content, path.name, file_format)
    assert "Row 1 is the first row below the header (row 2 of the spreadsheet)." in response.content.decode()
    preview = response.context["result"].preview
    assert [(row.number, row.status) for row in preview.rows] == [(1, "new"), (4, "new"), (5, "error"), (6, "error")]
    assert preview.rows[2].errors == [("source kind", ["officialX is not one of official, secondary, unverified, illustrative"])]
    assert preview.rows[3].errors == [("unit code", ["the same record appears earlier in the file (row 4)"])]


def test_a_row_too_wide_is_named_by_its_number_in_the_file(tmp_path):
    path = csv_file(tmp_path, HEADER + "110101,2016,new,doc,official\n\n,,\n110102,2016,new,doc,official,extra\n")
    with pytest.raises(CommandError, match=re.escape("Row 4 has 6 cells; the header has 5.")):
        run_command("import_designations", str(path))


# -- every kind of XLSX cell: read as its column expects, or named in the column's error ----------

DESIGNATION_COLUMNS = [
    "code",
    "batch_year",
    "batch_sequence",
    "kind",
    "is_old_revolutionary_base",
    "name_as_reported",
    "source",
    "source_kind",
    "source_note",
]


def xlsx_file(header, rows, patch=None) -> bytes:
    """An XLSX file; `patch` rewrites its sheet's XML (openpyxl never saves a formula's value)."""
    workbook = Workbook()
    workbook.active.append(header)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    if patch is None:
        return buffer.getvalue()
    rewritten = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, patch(data.decode()).encode() if item.filename == "xl/worksheets/sheet1.xml" else data)
    return rewritten.getvalue()


def import_both_ways(tmp_path, admin_client, model_name, command, content):
    """The command's error lines and the admin preview's rows, for the same XLSX file."""
    path = tmp_path / "file.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        run_command(command, str(path))
    lines = str(error.value).splitlines()[1:]
    preview = import_in_admin(admin_client, model_name, content, "file.xlsx", "xlsx").context["result"].preview
    return lines, {row.number: row.errors for row in preview.rows if row.errors}


FORMULA_MESSAGE = (
    "the cell holds a formula (=A2) with no saved value: open the file in Excel, WPS or LibreOffice and save it there, "
    "so that the values of its formulas are saved too (or type the value itself)"
)


def test_xlsx_cells_of_every_kind_are_read_or_named_in_their_columns_error(tmp_path, admin_client):
    rows = [
        [110101, datetime(2016, 5, 1), 1, "new", None, None, "doc", "official", None],
        [110102, 2016, time(10, 30), "new", True, None, "doc", "official", None],
        [110105, 2016, 1, True, None, None, "doc", "official", None],
        [110106, 2016, 1, "new", datetime(2019, 1, 1, 8, 15), None, timedelta(hours=26), "official", None],
        ["#REF!", 2016, 1, "new", None, None, "doc", "official", None],
        ["=A2", 2016, 1, "new", None, None, "doc", "official", None],
        [110107, 2016, 1, "new", False, 2016, "doc", "official", 12.5],  # valid: a bool, numbers as text
    ]
    lines, errors = import_both_ways(tmp_path, admin_client, "designation", "import_designations", xlsx_file(DESIGNATION_COLUMNS, rows))
    assert lines == [
        "row 1: batch_year: a date (2016-05-01) where a year is expected",
        "row 2: batch_sequence: a time of day (10:30:00) where a batch number is expected",
        "row 3: kind: a true/false value (TRUE) where one of new, repeat, upgraded is expected",
        "row 4: is_old_revolutionary_base: a date and time (2019-01-01 08:15:00) where yes or no is expected",
        "row 4: source: a duration (26:00:00) where text is expected",
        "row 5: code: the error value #REF! where a code is expected",
        f"row 6: code: {FORMULA_MESSAGE}",
    ]
    # The admin's preview: the same messages on the same rows, each under its column's label.
    assert errors == {
        1: [("batch year", ["a date (2016-05-01) where a year is expected"])],
        2: [("batch of the year", ["a time of day (10:30:00) where a batch number is expected"])],
        3: [("kind", ["a true/false value (TRUE) where one of new, repeat, upgraded is expected"])],
        4: [
            ("old revolutionary base county", ["a date and time (2019-01-01 08:15:00) where yes or no is expected"]),
            ("source", ["a duration (26:00:00) where text is expected"]),
        ],
        5: [("unit code", ["the error value #REF! where a code is expected"])],
        6: [("unit code", [FORMULA_MESSAGE])],
    }


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("fiscal_year", datetime(2016, 5, 1), "fiscal_year: a date (2016-05-01) where a year is expected"),
        ("fiscal_year", True, "fiscal_year: a true/false value (TRUE) where a year is expected"),
        ("amount_yuan", datetime(2016, 5, 1), "amount_yuan: a date (2016-05-01) where an amount in yuan is expected"),
        ("amount_yuan", "#DIV/0!", "amount_yuan: the error value #DIV/0! where an amount in yuan is expected"),
        ("level", time(9, 0), "level: a time of day (09:00:00) where one of central, provincial, county is expected"),
        ("id", datetime(2016, 5, 1), "id: a date (2016-05-01) where a record id is expected"),
        ("document_number", datetime(2019, 1, 2), "document_number: a date (2019-01-02) where text is expected"),
    ],
)
def test_funding_cells_of_the_wrong_kind_name_their_column(tmp_path, admin_client, column, value, message):
    header = ["id", "code", "fiscal_year", "level", "amount_yuan", "document_number", "source", "source_kind"]
    row = dict(zip(header, [None, 110101, 2016, "central", 5000000, "财建〔2016〕1号", "doc", "official"], strict=True))
    row[column] = value
    lines, errors = import_both_ways(tmp_path, admin_client, "fundingallocation", "import_funding", xlsx_file(header, [list(row.values())]))
    assert lines == [f"row 1: {message}"]
    assert [messages for _label, messages in errors[1]] == [[message.split(": ", 1)[1]]]


def test_a_poverty_status_date_where_a_year_is_expected(tmp_path, admin_client):
    header = ["code", "listed_name", "region", "exit_year", "is_key_county_2012", "source", "source_kind"]
    content = xlsx_file(header, [["130721", "宣化县", "east", datetime(2019, 12, 31), True, "doc", "official"]])
    lines, errors = import_both_ways(tmp_path, admin_client, "povertystatus", "import_poverty_statuses", content)
    assert lines == ["row 1: exit_year: a date (2019-12-31) where a year is expected"]
    assert errors == {1: [("exit year", ["a date (2019-12-31) where a year is expected"])]}


def test_the_messages_are_translated(admin_client):
    rows = [
        [110101, datetime(2016, 5, 1), 1, "new", None, None, "doc", "official", None],
        ["=A2", 2016, 1, "new", None, None, "doc", "official", None],
    ]
    content = xlsx_file(DESIGNATION_COLUMNS, rows)
    with translation.override("zh-hans"):
        preview = import_in_admin(admin_client, "designation", content, "file.xlsx", "xlsx").context["result"].preview
    assert preview.rows[0].errors == [("批次年份", ["应为年份，却是日期（2016-05-01）"])]
    formula = (
        "该单元格是公式（=A2），但文件中没有保存其计算结果：请用 Excel、WPS 或 LibreOffice 打开并保存该文件，"
        "使公式的结果一并保存（或直接填入该值）"
    )
    assert preview.rows[1].errors == [("单位代码", [formula])]


def test_formulas_are_read_for_the_values_they_saved(tmp_path):
    """A file saved by a spreadsheet program holds each formula's value: that is what is read, and
    a formula whose value is empty text is an empty cell (not a formula without a value)."""

    def saved_values(xml: str) -> str:
        unsaved = ('<c r="A2"><f>B1</f><v /></c>', '<c r="I2"><f>""</f><v /></c>')
        assert all(cell in xml for cell in unsaved)
        xml = xml.replace(unsaved[0], '<c r="A2"><f>B1</f><v>110101</v></c>')  # =B1, saved as 110101
        return xml.replace(unsaved[1], '<c r="I2" t="str"><f>""</f><v></v></c>')  # ="", saved as empty text

    content = xlsx_file(DESIGNATION_COLUMNS, [["=B1", 2016, 1, "new", True, None, "doc", "official", '=""']], saved_values)
    path = tmp_path / "saved.xlsx"
    path.write_bytes(content)
    run_command("import_designations", str(path))
    record = models.Designation.objects.get(unit__code="110101", batch__year=2016)
    assert (record.is_old_revolutionary_base, record.name_as_reported, record.source_note) == (True, "", "")


def test_empty_xlsx_cells_in_text_columns_are_empty_text(tmp_path):
    """An empty cell of a text column is "", as in a CSV file: not NULL, which the database refuses
    (the whole file used to fail with "NOT NULL constraint failed")."""
    header = ["code", "fiscal_year", "level", "amount_yuan", "purpose", "document_number", "document_url", "source", "source_kind"]
    path = tmp_path / "funding.xlsx"
    path.write_bytes(xlsx_file(header, [[110101, 2016, "central", 2500000.5, None, 2016, None, "doc", "official"]]))
    assert "1 created" in run_command("import_funding", str(path))
    record = models.FundingAllocation.objects.get(unit__code="110101")
    assert (record.purpose, record.document_number, record.document_url, str(record.amount)) == ("", "2016", "", "2500000.50")


def test_an_xlsx_whose_dimension_says_a1_is_read_to_its_last_row(tmp_path):
    """Some writers put <dimension ref="A1"/> in every sheet: openpyxl then stopped at the header,
    and the import said "0 rows read" as if it had succeeded."""

    def dimension_a1(xml: str) -> str:
        assert '<dimension ref="A1:I3" />' in xml
        return xml.replace('<dimension ref="A1:I3" />', '<dimension ref="A1" />')

    rows = [[code, 2016, 1, "new", None, None, "doc", "official", None] for code in (110101, 110102)]
    path = tmp_path / "a1.xlsx"
    path.write_bytes(xlsx_file(DESIGNATION_COLUMNS, rows, dimension_a1))
    assert "2 created" in run_command("import_designations", str(path))
    assert models.Designation.objects.filter(unit__code__in=["110101", "110102"], batch__year=2016).count() == 2


# -- what a file's cells are read as, and what the preview says --------------------------------


def test_choices_are_read_in_any_case_and_stored_as_the_registry_spells_them(tmp_path):
    content = HEADER + "110101,2016,New,doc,OFFICIAL\n110102,2016,NEW,doc,Secondary\n"
    run_command("import_designations", str(csv_file(tmp_path, content)), "--reason", "cases")
    stored = models.Designation.objects.filter(unit__code__in=["110101", "110102"], batch__year=2016).order_by("unit__code")
    assert list(stored.values_list("kind", "source_kind")) == [("new", "official"), ("new", "secondary")]


def test_text_is_stored_without_the_spaces_around_it(tmp_path):
    content = "code,batch_year,kind,source,source_kind,name_as_reported,source_note\n"
    content += '110101,2016,new,"  商建函〔2016〕1号 ",official,"\t东城区  "," checked "\n'
    run_command("import_designations", str(csv_file(tmp_path, content)), "--reason", "spaces")
    record = models.Designation.objects.get(unit__code="110101", batch__year=2016)
    assert (record.source, record.name_as_reported, record.source_note) == ("商建函〔2016〕1号", "东城区", "checked")


def test_an_empty_choice_is_named_in_the_readers_language():
    from counties.writes.imports.programme import ChoiceWidget

    widget = ChoiceWidget(models.SourceKind.choices)
    with translation.override("zh-hans"), pytest.raises(ValueError, match=r"^（空） 不在可选值 official, secondary"):
        widget.clean("  ")


def test_the_preview_shows_the_batch_of_the_year(admin_client):
    preview = import_in_admin(admin_client, "designation", HEADER + "110101,2016,new,doc,official\n")
    result = preview.context["result"]
    columns = [column for column, _label in result.preview.columns]
    (row,) = result.preview.rows
    assert row.status == "new"
    assert [str(row.cells[columns.index(c)]) for c in ("code", "batch_year", "batch_sequence")] == [
        "<ins>110101</ins>",
        "<ins>2016</ins>",
        "<ins>1</ins>",
    ]


def test_a_header_only_file_is_refused_with_words_and_the_kept_file_is_not_offered(admin_client, tmp_path):
    import_in_admin(admin_client, "designation", HEADER + "110101,2099,new,doc,official\n", filename="first.csv")
    page = import_in_admin(admin_client, "designation", HEADER, filename="second.csv").content.decode()
    assert "The file has its header row but no records below it: enter one record per row under the header." in page
    assert "This importer will import the following fields" not in page  # the sentence would end on nothing
    assert "first.csv" not in page and 'name="use_kept"' not in page  # it would check the other file
    with pytest.raises(CommandError, match="header row but no records below it"):
        run_command("import_designations", str(csv_file(tmp_path, HEADER)))
    with pytest.raises(CommandError, match="The file is empty"):
        run_command("import_designations", str(csv_file(tmp_path, "\n\n")))


def test_a_file_that_changes_nothing_asks_no_reason_and_no_confirmation(admin_client, tmp_path):
    content = HEADER + "110101,2016,new,doc,official\n110102,2016,new,doc,official\n"
    assert confirm(admin_client, "designation", import_in_admin(admin_client, "designation", content)).status_code == 302
    page = import_in_admin(admin_client, "designation", content).content.decode()
    assert "Nothing to change" in page
    assert "All 2 records of the file match the registry already: importing it would change nothing" in page
    assert 'name="confirm"' not in page and 'name="reason"' not in page and "process_import" not in page
    output = run_command("import_designations", str(csv_file(tmp_path, content)), "--dry-run")
    assert "Nothing to change: all 2 records of the file match the registry already." in output


def test_the_command_line_summary_speaks_of_what_it_imports():
    """Indicator values come per year and province, and no import of them removes anything."""
    output = run_command("import_indicator_values", "data/examples/indicator_values_illustrative.csv", "--dry-run")
    assert "Per year and province:" in output and "removed" not in output and "batch" not in output
