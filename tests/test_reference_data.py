"""load_reference_data: what it loads, that a second run changes nothing, and that a bad file
is refused with its name and line before anything is written."""

import csv
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from counties import models
from counties.reads.places import place_named
from counties.writes.reference_data import CHANGED_REASON

from .conftest import admin_form_data, run_command

pytestmark = pytest.mark.django_db


def test_counts_after_loading():
    # The 3,052 codes of 2014-2020, and from the code history the 22 county-level codes created in
    # 2021-2024 and 儋州市 460400 (the city without districts 469003 became in 2015).
    units = models.Unit.objects.filter(code__isnull=False)
    assert units.count() == 3052 + 22 + 1
    assert (
        list(units.filter(first_year__gt=2020).values_list("first_year", flat=True).order_by("first_year"))
        == [2021] * 17 + [2023] * 3 + [2024] * 2
    )
    coded = units.exclude(unit_type=models.UnitType.PREFECTURE_LEVEL_CITY)
    assert coded.in_use_at(2020).count() == 2844
    # The MCA year-end totals of county-level units, reproduced from the first/last years in use.
    assert [coded.in_use_at(y).count() for y in range(2014, 2021)] == [2854, 2850, 2851, 2851, 2851, 2846, 2844]
    # End-2021: 17 codes created, 18 retired (黔西县, 旬阳县 ... and 梅列区, 吉利区, merged into others);
    # 2023: 米林市, 错那市 and 白杨市 created, 米林县 and 错那县 retired; 2024: 和康县 and 和安县 created.
    assert [coded.in_use_at(y).count() for y in range(2021, 2025)] == [2844 + 17 - 18, 2843, 2843 + 3 - 2, 2844 + 2]
    assert models.Unit.objects.filter(code__isnull=True).count() == 3  # the Qinghai 行委
    assert models.Province.objects.count() == 31
    assert models.PovertyStatus.objects.count() == 832
    assert list(models.Batch.objects.values_list("year", flat=True)) == [2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021]
    assert models.Designation.objects.filter(source_kind=models.SourceKind.SECONDARY).count() == 114
    assert models.ProgrammeFact.objects.count() == 39


def test_poverty_counties_by_province_and_exit_year():
    statuses = models.PovertyStatus.objects
    assert statuses.filter(unit__province__name_zh="云南省").count() == 88
    assert statuses.filter(unit__province__name_zh="西藏自治区").count() == 74
    assert statuses.filter(unit__province__name_zh="海南省").count() == 5
    assert {y: statuses.filter(exit_year=y).count() for y in range(2016, 2021)} == {
        2016: 28,
        2017: 125,
        2018: 283,
        2019: 344,
        2020: 52,
    }
    assert {r: statuses.filter(region=r).count() for r in ("west", "central", "east")} == {
        "west": 568,
        "central": 214,
        "east": 50,
    }
    shuangbai = statuses.get(unit__code="532322")
    assert shuangbai.exit_year == 2018  # the exit notice wins over the source list's 2019
    assert "2019" in shuangbai.exit_year_note


def test_category_flags_blank_means_not_determined():
    statuses = models.PovertyStatus.objects
    assert statuses.filter(is_key_county_2012=True).count() == 122
    assert statuses.filter(is_key_county_2012=False).count() == 7
    assert statuses.filter(is_key_county_2012__isnull=True).count() == 832 - 129
    xingtang = statuses.get(unit__code="130125")
    assert xingtang.is_key_county_2012 is True
    assert xingtang.is_contiguous_area_county is None  # UNKNOWN in the file: not "no"
    tibet = statuses.get(unit__code="540121")  # 林周县
    assert tibet.is_key_county_2012 is None
    assert (tibet.is_contiguous_area_county, tibet.contiguous_area) == (True, "西藏区")
    unspecified = statuses.filter(is_contiguous_area_county=True, contiguous_area="")
    assert unspecified.count() == 7


def test_qinghai_units_without_codes_are_all_held():
    lenghu = models.Unit.objects.get(name_zh="冷湖行委")
    mangya = models.Unit.objects.get(name_zh="茫崖行委")
    dachaidan = models.Unit.objects.get(name_zh="大柴旦行委")
    for unit in (lenghu, mangya, dachaidan):
        assert unit.code is None
        assert unit.key.startswith("X")
        assert unit.poverty_status.region == "west"
    # The 2018 merger into 茫崖市 keeps both predecessors, each pointing at it.
    assert lenghu.current.code == "632803"
    assert mangya.current.code == "632803"
    assert place_named(lenghu.key).name_zh == "茫崖市"
    assert dachaidan.current == dachaidan
    assert lenghu.last_year == 2017 and dachaidan.last_year is None


def test_years_and_succession_of_a_code():
    xuanhua_county = models.Unit.objects.get(code="130721")
    assert (xuanhua_county.name_zh, xuanhua_county.last_year) == ("宣化县", 2015)
    assert [s.successor_code for s in xuanhua_county.successions.all()] == ["130702", "130703", "130705"]
    assert xuanhua_county.successions.get(is_primary=True).successor.name_zh == "宣化区"
    renamed = models.Unit.objects.get(code="360402")  # 庐山区 renamed 濂溪区 in 2016, same code
    assert (renamed.name_zh, renamed.other_names, renamed.first_year, renamed.last_year) == ("濂溪区", "庐山区", 1983, None)
    qianxi = models.Unit.objects.get(code="520522")  # retired in 2021: its successor comes from the code history
    assert qianxi.last_year == 2020
    assert qianxi.successions.get().successor.key == "520581"
    assert qianxi.successions.get().successor_code == "520581"


def test_generated_names():
    unit = models.Unit.objects.get(code="130705")
    assert (unit.name_pinyin, unit.name_en, unit.name_en_generated) == ("Xuanhua Qu", "Xuanhua District", True)
    assert models.Province.objects.get(code="610000").name_en == "Shaanxi Province"


def test_second_run_changes_nothing():
    before = models.Unit.objects.aggregate(Max("updated_at"))
    output = run_command("load_reference_data")
    assert "Nothing changed" in output
    assert "county-level units: 0 created, 0 updated, 3078 unchanged" in output
    assert models.Unit.objects.aggregate(Max("updated_at")) == before


def test_reload_keeps_a_checked_english_name():
    unit = models.Unit.objects.get(code="422828")  # 鹤峰县
    unit.name_en, unit.name_en_generated = "Hefeng County (checked)", False
    unit.save()
    run_command("load_reference_data")
    unit.refresh_from_db()
    assert unit.name_en == "Hefeng County (checked)"


def test_reload_corrects_generated_names_an_earlier_load_got_wrong_and_keeps_checked_ones():
    """A database loaded before the readings were checked (乌什 'Wushen', 武都 'Wudou') is put
    right by the next load, which the container runs on every start; a name staff checked stays."""
    # One wrong in both names, one only in its pinyin, one only in its English name: the reload
    # writes each only what changed (a field another row changed must not be blanked).
    wrong = {
        "652927": ("Wushen Xian", "Wushen County"),
        "621202": ("Wudou Qu", "Wudu District"),
        "652801": ("Ku'erle Shi", "Ku'erlei City"),
    }
    for code, (pinyin, english) in wrong.items():
        models.Unit.objects.filter(code=code).update(name_pinyin=pinyin, name_en=english)
        snapshot = models.ReferenceSnapshot.objects.get(model="counties.Unit", key=f'["{code}"]')
        snapshot.values |= {"name_pinyin": pinyin, "name_en": english}  # as the earlier load wrote them
        snapshot.save()
    models.Unit.objects.filter(code="632822").update(name_en="Dulan (checked)", name_en_generated=False)
    output = run_command("load_reference_data")
    assert "county-level units: 0 created, 3 updated" in output
    names = {
        code: (p, e) for code, p, e in models.Unit.objects.filter(code__in=[*wrong, "632822"]).values_list("code", "name_pinyin", "name_en")
    }
    assert names == {
        "652927": ("Wushi Xian", "Wushi County"),
        "621202": ("Wudu Qu", "Wudu District"),
        "652801": ("Ku'erle Shi", "Korla City"),
        "632822": ("Dulan Xian", "Dulan (checked)"),
    }
    assert models.Unit.objects.get(code="652927").history.latest().history_change_reason == CHANGED_REASON


def test_provinces_have_short_names():
    short = dict(models.Province.objects.values_list("code", "short_name_zh"))
    assert (short["650000"], short["450000"], short["640000"], short["150000"]) == ("新疆", "广西", "宁夏", "内蒙古")
    assert models.Province.objects.get(code="150000").short_name_en == "Inner Mongolia"
    assert models.Province.objects.get(code="650000").name_pinyin == "Xinjiang"


def test_reload_keeps_a_value_changed_since_the_last_load_and_says_so():
    unit = models.Unit.objects.get(code="130705")
    unit.name_zh = "改过了"
    unit.save()
    history = unit.history.count()
    output = run_command("load_reference_data")
    assert "county-level units: 0 created, 0 updated, 3078 unchanged" in output
    assert "county-level units 130705: name_zh is “改过了”, the reference data says “宣化区”" in output
    unit.refresh_from_db()
    assert unit.name_zh == "改过了"
    assert unit.history.count() == history


@pytest.mark.parametrize(
    ("model", "lookup", "field", "value"),
    [(models.Province, {"code": "130000"}, "name_en", "Hebei"), (models.Batch, {"year": 2016}, "title_en", "The 2016 batch")],
)
def test_reload_keeps_edits_to_provinces_and_batches(model, lookup, field, value):
    record = model.objects.get(**lookup)
    setattr(record, field, value)
    record._change_reason = "staff edit"
    record.save()
    output = run_command("load_reference_data")
    record.refresh_from_db()
    assert getattr(record, field) == value
    assert f"{field} is “{value}”" in output
    assert record.history.latest().history_change_reason == "staff edit"


def test_a_column_the_files_gained_fills_the_new_empty_field_but_never_a_staff_value():
    """A database migrated to a new field (Batch.source_note_zh) before the files that fill it:
    the last load's snapshot does not know the column, so the new, empty field takes the files'
    value, while a value staff entered in the meantime stands."""
    snapshots = models.ReferenceSnapshot.objects.filter(model="counties.Batch")
    for snapshot in snapshots:
        snapshot.values.pop("source_note_zh")
        snapshot.save()
    models.Batch.objects.update(source_note_zh="")
    models.Batch.objects.filter(year=2017).update(source_note_zh="工作人员写的说明")
    output = run_command("load_reference_data")
    assert "batches: 0 created, 7 updated, 1 unchanged" in output
    assert "batches 2017, 1: source_note_zh is “工作人员写的说明”" in output
    assert models.Batch.objects.get(year=2015).source_note_zh.startswith("商务部 2015-07-21 新闻发布会")
    assert models.Batch.objects.get(year=2017).source_note_zh == "工作人员写的说明"
    assert "batches: 0 created, 0 updated, 8 unchanged" in run_command("load_reference_data")


def test_reload_does_not_recreate_a_record_staff_deleted():
    designation = models.Designation.objects.filter(source_kind="secondary", funding__isnull=True).first()
    unit_id, batch_id = designation.unit_id, designation.batch_id
    designation._change_reason = "not in the notice after all"
    designation.delete()
    output = run_command("load_reference_data")
    assert "designations: 0 created" in output
    assert f"designations {unit_id}, {batch_id}: deleted in the registry, not recreated" in output
    assert not models.Designation.objects.filter(unit_id=unit_id, batch_id=batch_id).exists()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    shutil.copytree(settings.REFERENCE_DATA_DIR, directory)
    return directory


def rewrite_line(path: Path, line: int, change) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = change(lines[line - 1])
    path.write_text("".join(lines), encoding="utf-8")


MALFORMED = {
    # name: (file, line to break, how, expected message)
    "bad code": (
        "counties_2014_2020.csv",
        7,
        lambda s: "12345X" + s[6:],
        "counties_2014_2020.csv, line 7: column 'code' must be a 6-digit code",
    ),
    "extra field": (
        "poverty_counties_832.csv",
        100,
        lambda s: s.rstrip("\n") + ",surplus\n",
        "poverty_counties_832.csv, line 100: more fields",
    ),
    "missing fields": ("programme_facts.csv", 12, lambda s: "X,2016\n", "programme_facts.csv, line 12: fewer fields"),
    "bad region": (
        "poverty_counties_832.csv",
        50,
        lambda s: s.replace(",west,", ",north,").replace(",central,", ",north,").replace(",east,", ",north,"),
        "poverty_counties_832.csv, line 50: column 'region_en' must be one of",
    ),
    "unknown designation code": (
        "demo_counties_found.csv",
        5,
        lambda s: s.replace(",220282,", ",999999,", 1),
        "demo_counties_found.csv, line 5: unknown code 999999",
    ),
    "bad batch amount": (
        "batches.csv",
        3,
        lambda s: s.replace("3700000000.00", "-5", 1),
        "batches.csv, line 3: column 'central_funds_total_yuan' must be a non-negative number",
    ),
    "a note without its Chinese": (
        "poverty_counties_832.csv",
        429,
        lambda s: s.rsplit(",", 1)[0] + ",\n",
        "poverty_counties_832.csv, line 429: notes has no Chinese version in notes_zh",
    ),
    "a figure's note without its Chinese": (
        "programme_facts.csv",
        32,
        lambda s: s.replace("同比增长 11.3%", ""),
        "programme_facts.csv, line 32: note has no Chinese version in note_zh",
    ),
    "missing column": (
        "batches.csv",
        1,
        lambda s: s.replace("planned_size", "size"),
        "batches.csv, line 1: missing column(s) planned_size",
    ),
}


@pytest.mark.parametrize(("file", "line", "change", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_file_is_refused_and_nothing_is_written(data_copy, file, line, change, message):
    # A valid change early in the load, which must not be written either.
    rewrite_line(data_copy / "counties_2014_2020.csv", 2, lambda s: s.replace("东城区", "东城新区"))
    rewrite_line(data_copy / file, line, change)
    with pytest.raises(CommandError) as error:
        run_command("load_reference_data", "--data-dir", str(data_copy))
    assert message in str(error.value)
    assert "nothing was written" in str(error.value)
    assert models.Unit.objects.get(code="110101").name_zh == "东城区"


def test_missing_file_is_named(data_copy):
    (data_copy / "programme_facts.csv").unlink()
    with pytest.raises(CommandError, match=r"programme_facts\.csv: file not found"):
        run_command("load_reference_data", "--data-dir", str(data_copy))


def test_valid_change_in_a_copy_is_loaded(data_copy):
    """The control for the tests above: the same early change, with no broken file, is written."""
    rewrite_line(data_copy / "counties_2014_2020.csv", 2, lambda s: s.replace("东城区", "东城新区"))
    run_command("load_reference_data", "--data-dir", str(data_copy))
    assert models.Unit.objects.get(code="110101").name_zh == "东城新区"


def set_column(path: Path, code: str, column: str, value: str) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["code"] == code:
            row[column] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.usefixtures("english")
def test_reload_keeps_a_staff_edit_made_in_the_admin_and_history_stays_true(admin_client, admin_user, data_copy):
    unit = models.Unit.objects.get(code="130705")
    url = reverse("admin:counties_unit_change", args=[unit.pk])
    edit = admin_form_data(admin_client.get(url), name_en="Xuanhua (the county's spelling)", change_reason="as the county writes it")
    assert admin_client.post(url, edit).status_code == 302
    # The files change a field nobody touched in the registry, and still name the unit otherwise.
    set_column(data_copy / "counties_2014_2020.csv", "130705", "other_names_2014_2020", "宣化城区")

    output = run_command("load_reference_data", "--data-dir", str(data_copy))
    assert "county-level units: 0 created, 1 updated, 3077 unchanged" in output
    assert "Kept 1 value(s) changed in the registry since the last load" in output
    assert "county-level units 130705: name_en is “Xuanhua (the county's spelling)”, the reference data says “Xuanhua District”" in output
    unit.refresh_from_db()
    assert (unit.name_en, unit.other_names) == ("Xuanhua (the county's spelling)", "宣化城区")

    # History is true: the admin's edit, then the reload's, which changed only other_names.
    reload, edit = unit.history.order_by("-history_date", "-history_id")[:2]
    assert (edit.history_user, edit.history_change_reason, edit.name_en) == (admin_user, "as the county writes it", unit.name_en)
    assert (reload.history_type, reload.history_user, reload.history_change_reason) == ("~", None, CHANGED_REASON)
    assert "load_reference_data" in reload.history_change_reason
    assert [(c.field, c.old, c.new) for c in reload.diff_against(edit).changes] == [("other_names", "", "宣化城区")]

    # A second run changes nothing, writes no history, and still says what it kept.
    history, snapshots = unit.history.count(), list(models.ReferenceSnapshot.objects.values_list("values", flat=True))
    again = run_command("load_reference_data", "--data-dir", str(data_copy))
    assert "Nothing changed" in again and "130705: name_en is" in again
    assert unit.history.count() == history
    assert list(models.ReferenceSnapshot.objects.values_list("values", flat=True)) == snapshots


# -- the loader writes through the services, in bulk ---------------------------------------------------


@pytest.mark.usefixtures("english")
def test_the_reference_data_is_held_to_the_832_like_every_door(data_copy):
    rewrite_line(data_copy / "counties_2014_2020.csv", 2, lambda s: s.replace("东城区", "东城新区"))  # must not be written either
    with (data_copy / "poverty_counties_832.csv").open("a", encoding="utf-8") as handle:
        handle.write("110101,东城区,110100,市辖区,110101,东城区,110100,市辖区,110000,北京市,东部,east,,,,,110101,东城区,市辖区,,\n")
    with pytest.raises(CommandError, match=r"nothing was written\..*All 832 poverty counties are listed"):
        run_command("load_reference_data", "--data-dir", str(data_copy))
    assert models.PovertyStatus.objects.count() == 832
    assert models.Unit.objects.get(code="110101").name_zh == "东城区"


def rewrite_notes(path: Path, count: int) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows[:count]:
        row["notes"], row["notes_zh"] = "checked again", "已再次核对"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_the_loader_writes_in_bulk_through_the_service(data_copy):
    rewrite_notes(data_copy / "poverty_counties_832.csv", 300)
    with CaptureQueriesContext(connection) as queries:
        output = run_command("load_reference_data", "--data-dir", str(data_copy))
    assert "poverty-county statuses: 0 created, 300 updated, 532 unchanged" in output
    statements = [q["sql"].split()[0] for q in queries if "povertystatus" in q["sql"]]
    # SELECT the stored values, then the changed records whole; the 832 over the set (COUNT, a status
    # off the list of 832, and a place listed twice); the keys; the records with no history yet
    # (none); and the changed records as the public sees them, for the change feed (one chunk of 900).
    assert statements.count("SELECT") == 8
    # UPDATE and INSERT their history in as many rows per statement as the database takes (at
    # least 50 on SQLite, 1,000 on PostgreSQL), not one per record.
    assert statements.count("UPDATE") <= 2
    assert statements.count("INSERT") <= 300 // 50 + 1
    changed = models.PovertyStatus.history.filter(history_type="~", exit_year_note="checked again")
    assert set(changed.values_list("history_change_reason", flat=True)) == {CHANGED_REASON} and changed.count() == 300


def test_codes_past_2020_exist_with_their_years_and_successions():
    """Every successor code a unit names is a unit, with its years, and the old code's place is it."""
    for old, new, year in [("520522", "520581", 2021), ("610928", "610981", 2021), ("540422", "540481", 2023), ("540530", "540581", 2023)]:
        before, after = models.Unit.objects.get(key=old), models.Unit.objects.get(key=new)
        assert (before.last_year, after.first_year, after.last_year, after.is_in_use) == (year - 1, year, None, True)
        assert before.successions.get(is_primary=True).successor == after
        assert place_named(old) == after
    danzhou = models.Unit.objects.get(key="460400")
    assert (danzhou.name_zh, danzhou.unit_type, danzhou.first_year, danzhou.province.code) == (
        "儋州市",
        "prefecture-level city",
        2015,
        "460000",
    )
    assert place_named("469003") == danzhou
    # No unit names a successor the registry does not hold.
    assert not models.UnitSuccession.objects.filter(successor__isnull=True).exists()
    # The end-2020 place of 黔西县 is still 黔西县 (the as-of rule); today it is 黔西市.
    from counties.reads.places import place_resolver

    qianxi = models.Unit.objects.get(key="520522")
    assert place_resolver().place(qianxi.pk, 2020) == qianxi.pk
    assert place_resolver().place(qianxi.pk) == models.Unit.objects.get(key="520581").pk


def test_a_unit_from_the_code_history_keeps_a_staff_edit_over_a_reload():
    """The units added past 2020 are loaded as every other: a value staff changed since stays."""
    qianxi = models.Unit.objects.get(code="520581")
    qianxi.name_en = "Qianxi (checked)"
    qianxi.name_en_generated = False
    qianxi.save()
    output = run_command("load_reference_data")
    assert "county-level units: 0 created, 0 updated, 3078 unchanged" in output
    qianxi.refresh_from_db()
    assert qianxi.name_en == "Qianxi (checked)"
    assert (qianxi.first_year, qianxi.last_year, place_named("520522")) == (2021, None, qianxi)
