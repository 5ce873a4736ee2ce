"""Bad and hostile input gets a message, never a 500 or a traceback: control characters, impossible
dates, NUL bytes, damaged or oversized files, zip bombs, and import users without the right."""

import io
import re
import zipfile
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError
from django.urls import reverse
from openpyxl import Workbook

from counties import models
from counties.models.staff import DATA_EDITORS, VIEWERS

from .conftest import admin_form_data, import_in_admin, run_command
from .factories import HEADER, csv_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# A C0 control, two C1 controls (U+0085 is a line break to some programs, U+009B a terminal's escape)
# and two bidirectional controls (an override and an isolate, which reorder the text shown).
CONTROLS = {"C0 VT": "\x0b", "C1 NEL": "\x85", "C1 CSI": "\x9b", "RLO": "\u202e", "LRI": "\u2066"}
controls = pytest.mark.parametrize("character", CONTROLS.values(), ids=CONTROLS.keys())


def named(character):
    return f"control character U+{ord(character):04X}"


# -- control characters are refused on input -------------------------------------------------


@controls
def test_admin_form_refuses_control_characters(admin_client, character):
    designation = models.Designation.objects.filter(source_kind="secondary").select_related("unit", "batch").first()
    response = admin_client.post(
        reverse("admin:counties_designation_change", args=[designation.pk]),
        {
            "unit": designation.unit.pk,
            "batch": designation.batch.pk,
            "kind": designation.kind,
            "is_old_revolutionary_base": "unknown",
            "name_as_reported": f"宣化{character}县",
            "source": designation.source,
            "source_kind": designation.source_kind,
            "source_note": "",
            "change_reason": "checked",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert f"{named(character)} (at position 3)" in response.content.decode()
    designation.refresh_from_db()
    assert character not in designation.name_as_reported


@controls
def test_api_refuses_control_characters(client, character):
    user = User.objects.create_user("writer")
    user.groups.add(Group.objects.get(name=DATA_EDITORS))
    _, key = models.ApiToken.issue(user, "t", can_write=True)
    payload = {
        "unit": "110101",
        "batch": models.Batch.objects.get(year=2018).pk,
        "kind": "new",
        "source": f"商建函{character}〔2018〕1号",
        "source_kind": "official",
    }
    response = client.post(
        "/api/v1/designations/", payload, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert named(character) in response.json()["error"]["fields"]["source"][0]
    assert not models.Designation.objects.filter(unit__code="110101", batch__year=2018).exists()


@controls
def test_import_refuses_control_characters(tmp_path, admin_client, character):
    content = HEADER + f"110101,2016,new,doc{character}ument,official\n"
    path = csv_file(tmp_path, content)
    with pytest.raises(CommandError, match=r"row 1: source: .*" + re.escape(named(character))):
        run_command("import_designations", str(path))
    preview = import_in_admin(admin_client, "designation", content).context["result"].preview
    assert [(row.status, row.errors) for row in preview.rows] == [
        ("error", [("source", [f"Remove the {named(character)} (at position 4); text may not contain control characters."])])
    ]
    assert not models.Designation.objects.filter(unit__code="110101", batch__year=2016).exists()


def test_bidirectional_marks_are_text():
    # The marks (unlike the overrides and isolates) reverse nothing, and right-to-left text carries them.
    for mark in ("\u200e", "\u200f", "\u061c"):
        models.no_control_characters(f"商建函{mark}〔2018〕1号")


# -- staff-only 500s ------------------------------------------------------------------------------


def test_as_of_an_impossible_date_is_a_message(admin_client):
    designation = models.Designation.objects.first()
    response = admin_client.get(reverse("admin:counties_designation_as_of", args=[designation.pk]), {"date": "2020-02-30"})
    assert response.status_code == 200
    assert "2020-02-30 is not a date" in response.content.decode()


# A key that is no number, a number that is no id, and one past the database's integer range.
NOT_AN_ID = pytest.mark.parametrize("value", ["abc", "1.5", "99999999999999999999"])


def refused_choice(response, field):
    assert response.status_code == 200  # the form again, with the field's error
    form = response.context["adminform"].form
    assert [error.code for error in form.errors.as_data()[field]] == ["invalid_choice"]
    assert f'<select name="{field}"' in response.content.decode()


@NOT_AN_ID
def test_an_autocomplete_value_that_names_no_record_is_the_fields_error(admin_client, value):
    """Found by a hostile probe: re-rendering the autocomplete looked the value up, a 500."""
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    url = reverse("admin:counties_designation_change", args=[designation.pk])
    response = admin_client.post(url, admin_form_data(admin_client.get(url), unit=value, change_reason="checked"))
    refused_choice(response, "unit")
    assert models.Designation.objects.get(pk=designation.pk).unit_id == designation.unit_id
    added = admin_form_data(admin_client.get(url), unit=value, loaded_version="", loaded_history="")
    count = models.Designation.objects.count()
    refused_choice(admin_client.post(reverse("admin:counties_designation_add"), added), "unit")
    assert models.Designation.objects.count() == count


@NOT_AN_ID
def test_the_staff_admins_autocomplete_refuses_it_too(admin_client, value):
    response = admin_client.post(reverse("admin:counties_apitoken_add"), {"user": value, "name": "partner"})
    refused_choice(response, "user")
    assert not models.ApiToken.objects.filter(name="partner").exists()


def test_nul_in_autocomplete_term_is_a_400(admin_client):
    response = admin_client.get(
        "/admin/autocomplete/", {"app_label": "counties", "model_name": "designation", "field_name": "unit", "term": "xuan\x00hua"}
    )
    assert response.status_code == 400
    assert "查询参数含有 NUL 字符" in response.content.decode()  # in the admin's language: /admin/ is Chinese


def test_nul_in_an_api_filter_is_a_json_400(client):
    response = client.get("/api/v1/counties/", {"q": "\x00"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def xlsx_bytes(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a zip", "not a readable XLSX file"),
        # A zip that is not a workbook: openpyxl fails deep inside.
        (lambda: _zip({"hello.txt": b"hi"}), "not a readable XLSX file"),
    ],
)
def test_malformed_xlsx_is_a_command_error(tmp_path, content, message):
    path = tmp_path / "designations.xlsx"
    path.write_bytes(content() if callable(content) else content)
    with pytest.raises(CommandError, match=message):
        run_command("import_designations", str(path))


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_missing_file_and_a_folder_are_command_errors(tmp_path):
    with pytest.raises(CommandError, match=r"no-such\.csv: No such file"):
        run_command("import_designations", str(tmp_path / "no-such.csv"))
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(CommandError, match=r"folder\.csv: Is a directory"):
        run_command("import_designations", str(folder))


def test_bad_import_options_are_command_errors(tmp_path):
    path = csv_file(tmp_path, HEADER + "110101,2016,new,doc,official\n")
    with pytest.raises(CommandError, match="--reason is 101 characters long; the history keeps at most 100"):
        run_command("import_designations", str(path), "--reason", "x" * 101)
    with pytest.raises(CommandError, match="--user contains a NUL character"):
        run_command("import_designations", str(path), "--user", "a\x00b")
    with pytest.raises(CommandError, match=r"--reason contains the control character U\+0001"):
        run_command("import_designations", str(path), "--reason", "bad\x01reason")
    assert not models.Designation.history.filter(history_change_reason__contains="\x01").exists()


def test_bad_arguments_are_command_errors():
    with pytest.raises(CommandError, match="invalid int value"):
        run_command("coverage_report", "--as-of", "last-year")
    with pytest.raises(CommandError, match=r"^--as-of: .*\b1900\b"):
        run_command("coverage_report", "--as-of", "1900")


def test_import_user_needs_the_admins_permissions(tmp_path):
    path = csv_file(tmp_path, HEADER + "110101,2016,new,doc,official\n")
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.groups.add(Group.objects.get(name=VIEWERS))
    with pytest.raises(CommandError, match=r"may not import designations: lacks counties.add_designation, counties.change_designation"):
        run_command("import_designations", str(path), "--user", "viewer")
    User.objects.create_user("left", is_staff=True, is_active=False).groups.add(Group.objects.get(name=DATA_EDITORS))
    with pytest.raises(CommandError, match="not an active staff account"):
        run_command("import_designations", str(path), "--user", "left")
    assert not models.Designation.objects.filter(unit__code="110101", batch__year=2016).exists()
    editor = User.objects.create_user("editor", is_staff=True)
    editor.groups.add(Group.objects.get(name=DATA_EDITORS))
    run_command("import_designations", str(path), "--user", "editor")
    assert models.Designation.objects.filter(unit__code="110101", batch__year=2016).exists()


# -- import formats and limits --------------------------------------------------------------------


def zip_bomb() -> bytes:
    """A real workbook plus a member that inflates to 300 MB; the file itself is a few hundred KB."""
    buffer = io.BytesIO(xlsx_bytes([["code", "batch_year", "status", "source", "source_kind"]]))
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/media/padding.bin", "w", force_zip64=True) as member,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(300):
            member.write(chunk)
    return buffer.getvalue()


def test_zip_bomb_is_refused_before_it_is_expanded(tmp_path, admin_client):
    bomb = zip_bomb()
    assert len(bomb) < 1_000_000
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb)
    with mock.patch("openpyxl.load_workbook") as load_workbook:
        with pytest.raises(CommandError, match=r"would expand to 300\.\d MB; at most 50\.0 MB"):
            run_command("import_designations", str(path))
        response = import_in_admin(admin_client, "designation", bomb, "bomb.xlsx", "xlsx")
        assert "would expand to 300" in response.content.decode()
        load_workbook.assert_not_called()


def test_file_size_and_row_limits(tmp_path, settings):
    path = csv_file(tmp_path, HEADER + "110101,2016,new,doc,official\n110102,2016,new,doc,official\n")
    settings.IMPORT_MAX_ROWS = 1
    with pytest.raises(CommandError, match="more than 1 data rows"):
        run_command("import_designations", str(path))
    settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_BYTES = 100, 50
    with pytest.raises(CommandError, match=r"files of at most 0\.0 MB"):
        run_command("import_designations", str(path))
    xlsx = tmp_path / "rows.xlsx"
    xlsx.write_bytes(
        xlsx_bytes([["code", "batch_year", "status", "source", "source_kind"], *[[110101, 2016, "designated", "d", "official"]] * 3])
    )
    settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_BYTES = 2, 10_000_000
    with pytest.raises(CommandError, match="more than 2 data rows"):
        run_command("import_designations", str(xlsx))


def test_admin_import_refuses_other_formats(admin_client):
    """JSON, YAML, TSV and HTML are neither offered nor read (the form accepts only the two indexes)."""
    response = admin_client.post(
        reverse("admin:counties_designation_import"),
        {"import_file": io.BytesIO(b'[{"code": "110101"}]'), "format": "2", "resource": "0"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_api_delete_of_a_record_others_refer_to_is_a_409(client):
    """Found by the fuzz run on PostgreSQL: a designation with funding answered 500 on DELETE."""
    user = User.objects.create_superuser("deleter", "d@example.org", "x")
    _, key = models.ApiToken.issue(user, "t", can_write=True)
    funding = models.FundingAllocation.objects.filter(designation__isnull=False).select_related("designation").first()
    response = client.delete(
        f"/api/v1/designations/{funding.designation.pk}/?reason=test", HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["message"].startswith("This record cannot be deleted while other records refer to it: ")
    assert models.Designation.objects.filter(pk=funding.designation.pk).exists()


@pytest.mark.parametrize("reason", ["x" * 101, "why\x00not"])
def test_api_reason_too_long_or_with_control_characters_is_a_400(client, reason):
    """Found by the fuzz run on PostgreSQL: the history's 100-character column made a long reason a 500."""
    user = User.objects.create_superuser("reasoner", "r@example.org", "x")
    _, key = models.ApiToken.issue(user, "t", can_write=True)
    designation = models.Designation.objects.filter(funding__isnull=True).first()
    response = client.delete(f"/api/v1/designations/{designation.pk}/", HTTP_X_CHANGE_REASON=reason, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    assert models.Designation.objects.filter(pk=designation.pk).exists()


def test_a_json_body_nested_too_deeply_is_a_400_in_the_clients_language(client):
    """Found by a hostile probe: 50,000 `[` made Python's JSON reader raise RecursionError, a 500
    (every write is tried in test_api_fuzz)."""
    user = User.objects.create_superuser("nester", "n@example.org", "x")
    _, key = models.ApiToken.issue(user, "t", can_write=True)
    designation = models.Designation.objects.first()
    response = client.patch(
        f"/api/v1/designations/{designation.pk}/?reason=x",
        "[" * 50_000,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message == "JSON 解析错误：请求体中的列表和对象嵌套过深，无法读取；一条记录应是一个由字段组成的对象。"


def test_api_unit_key_with_a_nul_is_a_400(client):
    """Found by the fuzz run on PostgreSQL: a NUL in `unit` reached the database lookup (a 500)."""
    user = User.objects.create_superuser("poster", "p@example.org", "x")
    _, key = models.ApiToken.issue(user, "t", can_write=True)
    payload = {"unit": "11\x000101", "fiscal_year": 2018, "level": "central", "amount": "1.00", "source": "s", "source_kind": "official"}
    response = client.post("/api/v1/funding-allocations/", payload, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 400
    assert "unit" in response.json()["error"]["fields"]


@pytest.mark.parametrize("debug", [False, True])
def test_too_many_query_parameters_get_the_sites_400_in_the_readers_language(client, settings, debug):
    settings.DEBUG = debug
    query = "&".join(f"p{n}=1" for n in range(1001))
    chinese = client.get(f"/counties/?{query}")
    assert chinese.status_code == 400 and chinese["Content-Language"] == "zh-hans"
    page = chinese.content.decode()
    assert "此请求所带参数超过 1,000 个" in page and "<h1>请求未被接受</h1>" in page and 'lang="zh-hans"' in page
    english = client.get(f"/en/counties/?{query}")
    assert "This request carries more than 1,000 parameters" in english.content.decode()
    api = client.get(f"/api/v1/counties/?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert api.status_code == 400 and api["Content-Type"] == "application/json"
    assert api.json()["error"] == {
        "code": "bad_request",
        "message": "This request carries more than 1,000 parameters, more than any page or filter of the registry reads.",
    }
    assert client.get(f"/counties/?{query[: query.index('&p1000')]}").status_code == 200
