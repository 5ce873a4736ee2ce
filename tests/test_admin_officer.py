"""The admin as a data officer uses it (issue 13): records open by code, the index in the order of
use, the import preview with every row and the file kept, history in words, the change log and the
dashboard (with their query counts)."""

import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from counties import models
from counties.admin import site as admin_site
from counties.models.staff import DATA_EDITORS, PROVINCIAL_EDITORS
from counties.reads import history
from counties.writes import services

from .conftest import admin_form_data, import_in_admin

pytestmark = pytest.mark.django_db

HEADER = "code,batch_year,kind,source,source_kind\n"


def staff(role, province=None, name=None):
    user = User.objects.create_user(name or f"officer-{User.objects.count()}", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    if province:
        models.StaffProfile.objects.create(user=user, province=models.Province.objects.get(code=province))
    return user


# -- 1. records open by their code ----------------------------------------------------------------


def test_a_unit_opens_by_its_code_with_history_and_delete(admin_client):
    unit = models.Unit.objects.get(key="130705")
    change = admin_client.get("/admin/counties/unit/130705/change/")
    assert change.status_code == 200
    assert change.context["original"] == unit
    page = change.content.decode()
    assert 'href="/admin/counties/unit/130705/history/"' in page  # the history link names the code too
    assert 'href="/admin/counties/unit/130705/delete/"' in page
    assert admin_client.get("/admin/counties/unit/130705/history/").context["object"] == unit
    assert admin_client.get("/admin/counties/unit/130705/delete/").status_code == 200
    assert admin_client.get("/admin/counties/unit/130705/as-of/").status_code == 200
    # A retired code is a unit of its own: 宣化县 opens on its own page, which names what it became.
    retired = admin_client.get("/admin/counties/unit/130721/change/")
    assert retired.context["original"].name_zh == "宣化县"
    assert (
        '130721 宣化县 是已停用的代码，现为 <a href="/admin/counties/unit/130705/change/">130705 宣化区</a>。' in retired.content.decode()
    )
    # The internal id still works (Django's own links after adding a record use it).
    assert admin_client.get(f"/admin/counties/unit/{unit.pk}/change/").context["original"] == unit


def test_the_units_list_links_by_code(admin_client):
    page = admin_client.get(reverse("admin:counties_unit_changelist"), {"q": "130705"}).content.decode()
    assert 'href="/admin/counties/unit/130705/change/' in page
    assert f'href="/admin/counties/unit/{models.Unit.objects.get(key="130705").pk}/change/' not in page


def test_an_unknown_code_says_so_and_searches_for_it(admin_client):
    response = admin_client.get("/admin/counties/unit/999999/change/", follow=True)
    assert response.redirect_chain == [("/admin/counties/unit/?q=999999", 302)]
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["登记簿中没有代码为 999999 的县级单位。下面的列表是按该代码搜索的结果。"]


def test_provinces_and_prefectures_open_by_code(admin_client):
    assert admin_client.get("/admin/counties/province/130000/change/").context["original"].name_zh == "河北省"
    assert admin_client.get("/admin/counties/prefecture/130700/change/").context["original"].name_zh == "张家口市"
    page = admin_client.get(reverse("admin:counties_province_changelist")).content.decode()
    assert 'href="/admin/counties/province/130000/change/' in page


# -- 2. the index ----------------------------------------------------------------------------------


def test_the_index_puts_the_records_officers_keep_first(admin_client, english):
    response = admin_client.get(reverse("admin:index"))
    groups = [(str(app["name"]), [m["object_name"] for m in app["models"]]) for app in response.context["app_list"]]
    assert groups[0] == (
        "Records kept by data officers",
        ["Designation", "FundingAllocation", "Assessment", "IndicatorValue", "PovertyStatus", "Pairing"],
    )
    assert groups[1][0] == "Reference data" and groups[1][1][:3] == ["Unit", "UnitSuccession", "Batch"]
    assert groups[2] == ("Accounts and access", ["StaffProfile", "Role", "ApiToken"])
    page = response.content.decode()
    assert page.index("Designations") < page.index("County-level units") < page.index("API tokens")
    assert 'href="/en/admin/dashboard/"' in page and 'href="/en/admin/changes/"' in page


# -- 3. the import preview ---------------------------------------------------------------------------


def upload(client, model_name, content, filename="roster.csv", **extra):
    data = io.BytesIO(content.encode("utf-8"))
    data.name = filename
    return client.post(reverse(f"admin:counties_{model_name}_import"), {"import_file": data, "format": "0", "resource": "0", **extra})


def test_the_import_form_offers_csv_and_xlsx_and_the_template(admin_client):
    page = admin_client.get(reverse("admin:counties_designation_import")).content.decode()
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', page.split('name="format"')[1].split("</select>")[0])
    assert options == [("0", "csv"), ("1", "xlsx")]  # no "---", no yaml or html
    assert 'href="/admin/counties/designation/import-template/"' in page


def test_a_file_with_an_error_shows_every_row_with_its_status_and_is_kept(admin_client):
    content = (
        HEADER
        + "110101,2016,new,商建函〔2016〕1号,official\n"  # new
        + "130721,2021,new,商建函〔2021〕1号,official\n"  # retired code: error
        + "130123,2014,new,x,secondary\n"  # 正定县 in 2014: already there, changes its source
    )
    before = models.Designation.objects.count()
    response = upload(admin_client, "designation", content)
    assert models.Designation.objects.count() == before
    page = response.content.decode()
    preview = response.context["result"].preview
    assert [(row.number, row.status) for row in preview.rows] == [(1, "new"), (2, "error"), (3, "update")]
    assert [str(label) for _column, label in preview.columns][:4] == ["单位代码", "批次年份", "当年批次序号", "类别"]  # labels, in Chinese
    assert "部分行未通过校验" in page and "某些行验数据证失败" not in page
    assert page.count('class="import-row import-row-') == 3  # the valid rows are shown too
    assert "请使用其承继代码 130705（宣化区）" in page
    # The file is kept: the page names it and offers to check it again without choosing it.
    assert "roster.csv" in page and 'name="use_kept"' in page
    assert response.context["kept_file"] == "roster.csv"
    again = admin_client.post(reverse("admin:counties_designation_import"), {"use_kept": "1", "format": "0", "resource": "0"})
    assert [row.status for row in again.context["result"].preview.rows] == ["new", "error", "update"]


def test_a_corrected_file_replaces_the_kept_one_and_commits(admin_client, admin_user):
    upload(admin_client, "designation", HEADER + "130721,2021,new,商建函〔2021〕1号,official\n")
    fixed = upload(admin_client, "designation", HEADER + "130705,2021,new,商建函〔2021〕1号,official\n", filename="fixed.csv")
    assert fixed.context["kept_file"] == "fixed.csv"
    confirm = fixed.context["confirm_form"]
    response = admin_client.post(
        reverse("admin:counties_designation_process_import"),
        {
            **{name: confirm[name].value() for name in ("import_file_name", "original_file_name", "format", "resource")},
            "reason": "商建函〔2021〕1号",
        },
    )
    assert response.status_code == 302
    record = models.ImportRecord.objects.get()
    assert (record.user, record.model, record.file_name, record.rows, record.created, record.reason) == (
        admin_user,
        "counties.designation",
        "fixed.csv",
        1,
        1,
        "商建函〔2021〕1号",
    )
    assert admin_client.session.get("registry-import-kept:counties.designation") is None


# -- 4. history in words ------------------------------------------------------------------------------


def change_old_base(designation, value, user):
    designation.is_old_revolutionary_base = value
    services.save_record(designation, user=user, reason="核对老区县名单")


def test_history_reads_in_labels_and_words_in_both_languages(admin_client, admin_user):
    designation = models.Designation.objects.filter(is_old_revolutionary_base__isnull=True).first()
    change_old_base(designation, False, admin_user)
    url = reverse("admin:counties_designation_history", args=[designation.pk])
    page = admin_client.get(url).content.decode()
    assert '<strong>革命老区县</strong>: <span class="history-old">未知</span> → <span class="history-new">否</span>' in page
    assert "None" not in page.split('id="change-history"')[1]
    with translation.override("en"):
        english = admin_client.get(reverse("admin:counties_designation_history", args=[designation.pk])).content.decode()
    assert (
        '<strong>Old revolutionary base county</strong>: <span class="history-old">unknown</span> → <span class="history-new">no</span>'
        in english
    )


def test_foreign_keys_are_named_in_history(admin_user):
    funding = models.FundingAllocation.objects.first()
    funding.unit = models.Unit.objects.get(key="130705")
    funding.designation = None  # a designation of the unit it left would be another place's
    services.save_record(funding, user=admin_user, reason="moved")
    entry = history.describe(models.FundingAllocation, [funding.history.first()])[0]
    unit_change = next(c for c in entry.changes if c.label == "单位")
    assert unit_change.new == "宣化区 (130705)"


def test_an_old_version_is_read_only(admin_client, admin_user):
    designation = models.Designation.objects.filter(is_old_revolutionary_base__isnull=True).first()
    change_old_base(designation, True, admin_user)
    version = designation.history.first()
    url = reverse("admin:counties_designation_simple_history", args=[designation.pk, version.history_id])
    page = admin_client.get(url).content.decode()
    content = page.split('id="content-main"')[1]
    assert "<input" not in content and "<select" not in content and "<textarea" not in content
    assert '<th scope="row">革命老区县</th><td>是</td>' in content
    assert admin_client.post(url, {"kind": "upgraded"}).status_code == 405
    designation.refresh_from_db()
    assert designation.kind != "upgraded"


def test_history_models_are_named_in_the_readers_language():
    history_model = models.Designation.history.model
    assert str(history_model._meta.verbose_name) == "示范县认定的历史记录"
    with translation.override("en"):
        assert str(history_model._meta.verbose_name) == "history of designation"


# -- 5. the change log ----------------------------------------------------------------------------------


def make_changes(user, count):
    """`count` changes by `user` to Hebei designations and one to a designation of another province."""
    hebei = list(models.Designation.objects.filter(unit__province__code="130000").order_by("pk")[:count])
    for designation in hebei:
        designation.name_as_reported = f"改 {designation.pk}"
        services.save_record(designation, user=user, reason="河北核对")
    beijing = models.Designation.objects.exclude(unit__province__code="130000").order_by("pk").first()
    beijing.name_as_reported = "北京改"
    services.save_record(beijing, user=user, reason="北京核对")
    return hebei, beijing


def test_the_change_log_lists_changes_newest_first_with_words_and_links(admin_client, admin_user):
    _hebei, beijing = make_changes(admin_user, 2)
    response = admin_client.get(reverse("admin:change_log"), {"user": admin_user.pk})
    entries = response.context["entries"]
    assert [e.record.history_change_reason for e in entries] == ["北京核对", "河北核对", "河北核对"]
    assert entries[0].changes[0].label == "报道所用名称" and entries[0].changes[0].new == "北京改"
    assert entries[0].url == reverse("admin:counties_designation_change", args=[beijing.pk])
    page = response.content.decode()
    assert "北京改" in page and f'href="{entries[0].url}"' in page


def test_the_change_log_filters_by_province_model_reason_and_date(admin_client, admin_user):
    make_changes(admin_user, 2)
    hebei = models.Province.objects.get(code="130000")
    by_province = admin_client.get(reverse("admin:change_log"), {"user": admin_user.pk, "province": hebei.pk}).context["entries"]
    assert [e.record.history_change_reason for e in by_province] == ["河北核对", "河北核对"]
    by_reason = admin_client.get(reverse("admin:change_log"), {"reason": "北京"}).context["entries"]
    assert [e.label for e in by_reason] == [str(models.Designation.objects.get(name_as_reported="北京改"))]
    units_only = admin_client.get(reverse("admin:change_log"), {"user": admin_user.pk, "model": "counties.unit"}).context["entries"]
    assert units_only == []
    future = admin_client.get(reverse("admin:change_log"), {"since": "2099-01-01"}).context["entries"]
    assert future == []
    bad = admin_client.get(reverse("admin:change_log"), {"since": "2021-02-01", "until": "2020-01-01"})
    assert "晚于结束日期" in bad.content.decode()


def test_a_provincial_editor_sees_their_province_only(client, admin_user):
    make_changes(admin_user, 2)
    client.force_login(staff(PROVINCIAL_EDITORS, province="130000"))
    entries = client.get(reverse("admin:change_log"), {"user": admin_user.pk}).context["entries"]
    assert [e.record.history_change_reason for e in entries] == ["河北核对", "河北核对"]
    beijing = models.Designation.objects.get(name_as_reported="北京改").unit.province
    other = client.get(reverse("admin:change_log"), {"province": beijing.pk})  # not a choice for this account
    assert "province" in other.context["form"].errors
    assert "北京核对" not in {e.record.history_change_reason for e in other.context["entries"]}
    assert {e.record.unit.province.code for e in other.context["entries"]} == {"130000"}
    client.force_login(staff(PROVINCIAL_EDITORS))  # no province set: fail closed
    assert client.get(reverse("admin:change_log")).context["entries"] == []
    client.force_login(staff(DATA_EDITORS))
    assert len(client.get(reverse("admin:change_log"), {"user": admin_user.pk}).context["entries"]) == 3


def test_the_change_log_costs_the_same_for_5_and_50_rows(admin_client, admin_user, monkeypatch):
    make_changes(admin_user, 50)
    counts = []
    for size in (5, 50):
        monkeypatch.setattr(admin_site, "CHANGE_LOG_PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(reverse("admin:change_log"), {"user": admin_user.pk})
        assert len(response.context["entries"]) == size
        counts.append(len(queries))
    # Session, user, the filters' users and provinces, the count, the page, then per kind of record
    # on the page its versions (with the previous ones' ids) and the previous versions, and per
    # kind of linked record one query: none of it grows with the page.
    assert counts[0] == counts[1], counts
    assert counts[1] <= 25


# -- 6. the dashboard -------------------------------------------------------------------------------------


def test_the_dashboard_counts_records_by_source_kind(admin_client):
    response = admin_client.get(reverse("admin:dashboard"))
    rows = {row.model: row for row in response.context["kinds"]}
    designations = rows[models.Designation]
    expected = {kind: models.Designation.objects.filter(source_kind=kind).count() for kind in models.SourceKind.values}
    assert {kind: n for kind, _label, n in designations.counts} == expected
    assert designations.total == models.Designation.objects.count()
    assert expected["illustrative"] > 0
    page = response.content.decode()
    assert f'href="/admin/counties/designation/?source_kind__exact=illustrative">{expected["illustrative"]}</a>' in page
    assert '<a href="/admin/counties/designation/">示范县认定</a>' in page  # each row names its records


def test_the_dashboard_lists_batches_with_illustrative_records_and_recent_imports(admin_client, admin_user):
    response = admin_client.get(reverse("admin:dashboard"))
    batches = response.context["batches"]
    batch_2016 = models.Batch.objects.get(year=2016)
    row = next(b for b in batches if b.pk == batch_2016.pk)
    assert row.illustrative == models.Designation.objects.filter(batch=batch_2016, source_kind="illustrative").count()
    assert row.url == f"/admin/counties/designation/?batch__id__exact={batch_2016.pk}&source_kind__exact=illustrative"
    models.ImportRecord.objects.create(
        user=admin_user,
        model="counties.designation",
        file_name="湖南2015.csv",
        rows=3,
        created=3,
        changed=0,
        unchanged=0,
        removed=2,
        reason="湘商函",
    )
    page = admin_client.get(reverse("admin:dashboard")).content.decode()
    assert "湖南2015.csv" in page and "湘商函" in page and "3 条新增" in page


def test_the_dashboard_costs_a_fixed_number_of_queries(admin_client, admin_user):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(reverse("admin:dashboard")).status_code == 200
        return len(queries)

    first = count()
    for i in range(15):
        models.ImportRecord.objects.create(
            user=admin_user,
            model="counties.fundingallocation",
            file_name=f"f{i}.csv",
            rows=1,
            created=1,
            changed=0,
            unchanged=0,
            removed=0,
            reason="r",
        )
    assert count() == first
    assert first <= 25


def test_a_provincial_editor_is_told_their_scope_and_why_a_page_is_refused(client):
    client.force_login(staff(PROVINCIAL_EDITORS, province="130000"))
    index = client.get(reverse("admin:index")).content.decode()
    assert "您的账户只能修改河北省的记录。" in index
    yunnan = models.PovertyStatus.objects.filter(unit__province__code="530000").first()
    page = client.get(reverse("admin:counties_povertystatus_change", args=[yunnan.pk]))
    shown = page.content.decode()
    assert page.status_code == 200 and "您的账户只能修改河北省的记录。" in shown
    assert "change_reason" not in shown and ">None<" not in shown
    refused = client.get(reverse("admin:counties_povertystatus_delete", args=[yunnan.pk]))
    text = refused.content.decode()
    assert refused.status_code == 403 and '<html lang="zh-hans"' in text
    assert "您的账户只能修改河北省的记录。" in text and reverse("admin:index") in text
    client.force_login(staff(PROVINCIAL_EDITORS))  # no province set
    assert "您的员工资料未指定省份" in client.get(reverse("admin:index")).content.decode()


def test_the_libraries_pages_are_in_chinese_too(admin_client):
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert ">登录锁定</a>" in index and ">登录失败记录</a>" in index and ">Axes<" not in index
    export = admin_client.get(reverse("admin:counties_designation_export")).content.decode()
    assert "全选" in export and "Select all" not in export
    header_only = import_in_admin(admin_client, "designation", "code,batch_year,kind,source,source_kind\n")
    assert "文件只有表头行，下面没有记录：请在表头下方每行填写一条记录。" in header_only.content.decode()


# -- 7. one rule for what a provincial editor sees of other provinces' staff data ----------------------


def test_a_provincial_editor_sees_the_staff_data_of_their_province_only_on_every_page(client, admin_user):
    """Who changed a record, why, and which file an import read: the dashboard's imports, the
    History pages and the change log show a Hebei editor Hebei's and nothing of Shanxi's."""
    hebei_editor, shanxi_editor = staff(PROVINCIAL_EDITORS, province="130000"), staff(PROVINCIAL_EDITORS, province="140000")
    hebei = models.Designation.objects.filter(unit__province__code="130000").order_by("pk").first()
    shanxi = models.Designation.objects.filter(unit__province__code="140000").order_by("pk").first()

    def imported(user, records, file_name, reason):
        for record in records:
            record.name_as_reported = f"{reason} {record.pk}"
        services.write_records(
            models.Designation, [], records, fields=["name_as_reported"], user=user, reason=reason, import_file=file_name, rows=1
        )

    imported(hebei_editor, [hebei], "冀名单.csv", "冀商函")
    imported(shanxi_editor, [shanxi], "晋名单.csv", "晋商函")
    imported(admin_user, [hebei, shanxi], "全国名单.csv", "商建函")
    provinces = dict(models.ImportRecord.objects.values_list("file_name", "province__code"))
    assert provinces == {"冀名单.csv": "130000", "晋名单.csv": "140000", "全国名单.csv": None}

    client.force_login(hebei_editor)
    dashboard = client.get(reverse("admin:dashboard")).content.decode()
    assert "冀名单.csv" in dashboard and "冀商函" in dashboard
    assert "晋名单.csv" not in dashboard and "晋商函" not in dashboard and "全国名单.csv" not in dashboard
    log = client.get(reverse("admin:change_log"), {"reason": "商"})
    assert {e.record.history_change_reason for e in log.context["entries"]} == {"冀商函", "商建函"}  # Hebei's record, both times
    assert "晋商函" not in log.content.decode()
    # Nor the names of the accounts whose changes it does not see.
    editors = {user.username for user in log.context["form"].fields["user"].queryset}
    assert hebei_editor.username in editors and admin_user.username in editors and shanxi_editor.username not in editors
    assert shanxi_editor.username not in log.content.decode()
    own = client.get(reverse("admin:counties_designation_history", args=[hebei.pk]))
    assert own.status_code == 200 and "冀商函" in own.content.decode()
    version = shanxi.history.latest().history_id
    for url in (
        reverse("admin:counties_designation_history", args=[shanxi.pk]),
        reverse("admin:counties_designation_simple_history", args=[shanxi.pk, version]),
        reverse("admin:counties_designation_as_of", args=[shanxi.pk]) + "?date=2099-01-01",
    ):
        refused = client.get(url)
        assert refused.status_code == 403 and "晋商函" not in refused.content.decode(), url
    history_link = reverse("admin:counties_designation_history", args=[shanxi.pk])
    shown = client.get(reverse("admin:counties_designation_change", args=[shanxi.pk]))
    assert shown.status_code == 200 and history_link not in shown.content.decode()  # the record itself stays readable

    client.force_login(staff(DATA_EDITORS))  # an account of every province sees all of it
    dashboard = client.get(reverse("admin:dashboard")).content.decode()
    assert all(name in dashboard for name in ("冀名单.csv", "晋名单.csv", "全国名单.csv"))
    assert "晋商函" in client.get(history_link).content.decode()
    assert history_link in client.get(reverse("admin:counties_designation_change", args=[shanxi.pk])).content.decode()


# -- 8. the staff site in the reader's language --------------------------------------------------------


def test_the_loaders_reasons_are_stored_as_written_and_read_in_the_readers_language(admin_client):
    from counties.models.programme import ROSTER_LOAD_REASON

    designation = models.Designation.objects.filter(source_kind="illustrative").order_by("pk").first()
    assert designation.history.earliest().history_change_reason == ROSTER_LOAD_REASON  # the stable key
    history_page = admin_client.get(f"/admin/counties/designation/{designation.pk}/history/").content.decode()
    assert "<td>由示意名单写入</td>" in history_page and "load_illustrative_roster" not in history_page
    log = admin_client.get(reverse("admin:change_log"), {"model": "counties.designation"})
    assert {e.reason for e in log.context["entries"]} == {"由示意名单写入"}
    with translation.override("en"):
        assert {e.reason for e in log.context["entries"]} == {"written by the illustrative roster"}
    # The reason filter finds them by the words the reader reads, and by what is stored.
    for words in ("示意名单", "load_illustrative_roster"):
        found = admin_client.get(reverse("admin:change_log"), {"reason": words, "model": "counties.designation"}).context["entries"]
        assert found and {e.record.history_change_reason for e in found} == {ROSTER_LOAD_REASON}
    unit_log = admin_client.get(reverse("admin:change_log"), {"model": "counties.unit"}).context["entries"]
    assert {e.reason for e in unit_log} == {"参考数据中新增"}


def test_money_in_the_change_log_is_written_as_the_pages_write_it(admin_client, admin_user):
    funding = models.FundingAllocation.objects.select_related("unit").order_by("pk").first()
    funding.amount = Decimal("18500000.00")
    services.save_record(funding, user=admin_user, reason="核对金额")
    funding.amount = Decimal("18600000.00")
    services.save_record(funding, user=admin_user, reason="再次核对")
    entry = admin_client.get(reverse("admin:change_log"), {"reason": "再次核对"}).context["entries"][0]
    assert entry.label.endswith(": 1,860 万元") and "18600000" not in entry.label
    assert [(c.label, c.old, c.new) for c in entry.changes] == [("金额（元）", "1,850 万元", "1,860 万元")]
    page = admin_client.get(reverse("admin:change_log"), {"reason": "核对"}).content.decode()
    assert "1,860 万元" in page and "18500000" not in page and "18,500,000.00" not in page


def test_an_illustrative_records_source_reads_in_chinese_and_is_kept_as_the_loader_wrote_it(admin_client):
    from counties.models.programme import ROSTER_NOTE, ROSTER_SOURCE

    designation = models.Designation.objects.filter(source_kind="illustrative").order_by("pk").first()
    url = f"/admin/counties/designation/{designation.pk}/change/"
    opened = admin_client.get(url)
    page = opened.content.decode()
    assert "示意名单：为吻合公布的批次数据而编制，并非官方记录" in page and ROSTER_SOURCE not in page
    assert "为吻合公布的批次数据而编制；没有可用的官方名单。" in page and ROSTER_NOTE not in page
    saved = admin_client.post(url, admin_form_data(opened, is_old_revolutionary_base="true", change_reason="核对老区县名单"))
    assert saved.status_code == 302
    designation.refresh_from_db()
    assert (designation.is_old_revolutionary_base, designation.source, designation.source_note) == (True, ROSTER_SOURCE, ROSTER_NOTE)


def test_roles_and_the_staff_profile_read_in_chinese(admin_client):
    officer = staff(PROVINCIAL_EDITORS, province="130000", name="officer")
    users = admin_client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert ">省级编辑</a>" in users and "provincial editors" not in users
    roles = admin_client.get(reverse("admin:counties_role_changelist")).content.decode()
    assert ">数据编辑</a>" in roles and ">只读查看者</a>" in roles and "data editors" not in roles
    user_page = admin_client.get(reverse("admin:auth_user_change", args=[officer.pk])).content.decode()
    assert ">省级编辑</option>" in user_page and "示范县认定 | 可修改" in user_page
    profile = models.StaffProfile.objects.get(user=officer)
    profile_page = admin_client.get(reverse("admin:counties_staffprofile_change", args=[profile.pk])).content.decode()
    assert ">用户:</label>" in profile_page and "User:" not in profile_page
    # The group keeps its English name, the key the code finds it by.
    assert officer.groups.get().name == PROVINCIAL_EDITORS == "provincial editors"


def test_a_provincial_editor_is_set_up_on_one_page(admin_client):
    """The README's steps: the user's own page gives the role and, below it, the province."""
    user = User.objects.create_user("jin", password="a long enough password 1")
    role = Group.objects.get(name=PROVINCIAL_EDITORS)
    page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk]))
    assert 'name="registry_profile-0-province"' in page.content.decode()
    data = admin_form_data(page) | {
        "is_staff": "on",
        "groups": [str(role.pk)],
        "registry_profile-0-province": str(models.Province.objects.get(code="140000").pk),
        "date_joined_0": user.date_joined.date().isoformat(),  # a date and a time field on the page
        "date_joined_1": user.date_joined.time().strftime("%H:%M:%S"),
    }
    saved = admin_client.post(reverse("admin:auth_user_change", args=[user.pk]), data)
    assert saved.status_code == 302, saved.context and saved.context["errors"]
    user.refresh_from_db()
    assert user.is_staff and list(user.groups.values_list("name", flat=True)) == [PROVINCIAL_EDITORS]
    assert user.registry_profile.province.code == "140000"


def test_an_indicator_value_in_the_change_log_is_named_and_written_as_the_pages_write_it(admin_client, admin_user):
    value = models.IndicatorValue(
        unit=models.Unit.objects.get(key="130705"),
        indicator=models.Indicator.objects.get(code="people_trained"),
        year=2019,
        value=Decimal("1200.0000"),
        source="冀商函〔2020〕1号",
        source_kind="official",
    )
    services.save_record(value, user=admin_user, reason="培训人数")
    entry = admin_client.get(reverse("admin:change_log"), {"reason": "培训人数"}).context["entries"][0]
    indicator = models.Indicator.objects.get(code="people_trained")
    assert entry.label == f"宣化区 (130705) {indicator.name_zh} 2019: 1,200"


def test_djangos_address_for_the_groups_leads_to_the_roles(admin_client):
    response = admin_client.get("/admin/auth/group/")
    assert response.status_code == 302 and response["Location"] == reverse("admin:counties_role_changelist")
