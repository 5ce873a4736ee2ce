"""The admin: every page answers with a bounded number of queries, search by old codes, roles,
provincial editors, history with reasons, the record as of a date, concurrent edits, lock-out."""

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from counties import models
from counties.models.staff import DATA_EDITORS, PROVINCIAL_EDITORS, REFERENCE_ADMINISTRATORS, VIEWERS
from counties.reads import history

from .conftest import admin_form_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MODELS = [
    "province",
    "prefecture",
    "unit",
    "unitsuccession",
    "batch",
    "designation",
    "fundingallocation",
    "povertystatus",
    "programmefact",
    "publishedprovincecount",
    "apitoken",
    "staffprofile",
]


def first_pk(model_name):
    model = {
        m._meta.model_name: m
        for m in (
            models.Province,
            models.Prefecture,
            models.Unit,
            models.UnitSuccession,
            models.Batch,
            models.Designation,
            models.FundingAllocation,
            models.PovertyStatus,
            models.ProgrammeFact,
            models.PublishedProvinceCount,
        )
    }.get(model_name)
    return model.objects.order_by("pk").values_list("pk", flat=True).first() if model else None


# Session, user, and each page's own queries; inlines and autocompletes load no list of units.
PAGE_QUERY_LIMIT = 25


@pytest.mark.parametrize("model_name", MODELS)
def test_every_list_and_add_page_answers(admin_client, django_assert_max_num_queries, model_name):
    for view in ("changelist", "add"):
        with django_assert_max_num_queries(PAGE_QUERY_LIMIT):
            response = admin_client.get(reverse(f"admin:counties_{model_name}_{view}"))
        assert response.status_code == 200, (model_name, view)


@pytest.mark.parametrize("model_name", [m for m in MODELS if m not in ("apitoken", "staffprofile")])
def test_every_change_page_answers(admin_client, django_assert_max_num_queries, model_name):
    with django_assert_max_num_queries(PAGE_QUERY_LIMIT):
        response = admin_client.get(reverse(f"admin:counties_{model_name}_change", args=[first_pk(model_name)]))
    assert response.status_code == 200


@pytest.mark.parametrize("model_name", ["unit", "designation", "fundingallocation", "povertystatus", "batch"])
def test_list_query_count_does_not_depend_on_the_page(admin_client, model_name):
    counts = []
    for page in (1, 3):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(reverse(f"admin:counties_{model_name}_changelist"), {"p": page}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 20


def test_unit_page_has_designations_and_funding_inline(admin_client, django_assert_max_num_queries):
    unit = models.Unit.objects.get(code="130721")
    batches = models.Batch.objects.filter(year__in=[2016, 2017, 2018, 2019])
    for batch in batches:  # a unit with many records costs the same number of queries
        models.Designation.objects.get_or_create(unit=unit, batch=batch, defaults={"source": "t", "source_kind": "official"})
    with django_assert_max_num_queries(PAGE_QUERY_LIMIT):
        page = admin_client.get(reverse("admin:counties_unit_change", args=[unit.pk])).content.decode()
    assert "designations-TOTAL_FORMS" in page and "funding-TOTAL_FORMS" in page
    assert "successions-TOTAL_FORMS" in page
    assert page.count("2017年电子商务进农村综合示范县") >= 1


def test_search_by_old_code_finds_the_successor(admin_client):
    page = admin_client.get(reverse("admin:counties_unit_changelist"), {"q": "130721"}).content.decode()
    assert "宣化县" in page and "宣化区" in page
    page = admin_client.get(reverse("admin:counties_designation_changelist"), {"q": "130721"}).content.decode()
    assert "宣化区 (130705)" in page  # its 2019 designation, under the new code


def test_search_by_the_current_code_finds_records_held_under_the_old_one(admin_client):
    xuanhua_county, xuanhua_district = models.Unit.objects.get(key="130721"), models.Unit.objects.get(key="130705")
    batch = models.Batch.objects.get(year=2015)
    models.FundingAllocation.objects.filter(unit__in=[xuanhua_county, xuanhua_district]).delete()
    models.Designation.objects.filter(unit__in=[xuanhua_county, xuanhua_district]).delete()
    designation = models.Designation.objects.create(unit=xuanhua_county, batch=batch, source="doc", source_kind="official")
    funding = models.FundingAllocation.objects.create(
        unit=xuanhua_county, designation=designation, fiscal_year=2015, level="central", amount="1.00", source="doc", source_kind="official"
    )
    status = models.PovertyStatus.objects.get(unit=xuanhua_county)  # the 832 are listed by their 2014 codes

    def found(model_name, term):
        response = admin_client.get(reverse(f"admin:counties_{model_name}_changelist"), {"q": term})
        return sorted(obj.pk for obj in response.context["cl"].result_list)

    for term in ("130705", "130721"):  # either code of the place finds what is held under the old one
        assert found("povertystatus", term) == [status.pk]
        assert found("designation", term) == [designation.pk]
        assert found("fundingallocation", term) == [funding.pk]
        assert found("unit", term) == sorted([xuanhua_county.pk, xuanhua_district.pk])
    # A code stays exact: another county's records do not come with it.
    assert found("povertystatus", "130722") == [models.PovertyStatus.objects.get(unit__key="130722").pk]


def test_unit_links_use_autocomplete(admin_client):
    page = admin_client.get(reverse("admin:counties_designation_add")).content.decode()
    assert '<select name="unit" required id="id_unit" class="admin-autocomplete"' in page
    assert 'data-ajax--url="/en/admin/autocomplete/"' in page
    assert page.count("<option") < 200  # never a drop-down of 3,000 units
    response = admin_client.get(
        "/admin/autocomplete/", {"app_label": "counties", "model_name": "designation", "field_name": "unit", "term": "xuanhua"}
    )
    assert [r["text"] for r in response.json()["results"]] == ["宣化区 (130705)", "宣化县 (130721)"]


def test_export_honours_the_filter_and_has_a_bom(admin_client):
    batch = models.Batch.objects.get(year=2016)
    url = reverse("admin:counties_designation_export") + f"?batch__id__exact={batch.pk}"
    response = admin_client.post(
        url, {"format": "0", "resource": "0", **{f"designationresource_{f}": "on" for f in ("code", "batch_year", "source_kind")}}
    )
    assert response.status_code == 200, response.content.decode()[:500]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert len(text.strip().splitlines()) == 1 + 240


def test_import_template_download(admin_client):
    response = admin_client.get(reverse("admin:counties_designation_import_template"))  # /en/admin/ (English)
    lines = response.content.decode("utf-8").lstrip("\ufeff").splitlines()
    assert lines[0].startswith("code,batch_year,batch_sequence,kind")
    assert lines[1].startswith("# INSTRUCTIONS - delete this row. code: the 6-digit code")  # headers and instructions, no record
    assert "new | repeat | upgraded" in lines[1]
    assert len(lines) == 2
    funding = admin_client.get(reverse("admin:counties_fundingallocation_import_template"))
    instructions = funding.content.decode("utf-8").lstrip("\ufeff").splitlines()[1]
    assert instructions.startswith("# INSTRUCTIONS - delete this row. id: empty for a new record")
    assert instructions.count("INSTRUCTIONS") == 1
    # In the Chinese admin, in Chinese; the values to type stay as the import reads them.
    chinese = admin_client.get(reverse("admin:counties_designation_import_template").replace("/en/admin/", "/admin/"))
    line = chinese.content.decode("utf-8").lstrip("\ufeff").splitlines()[1]
    assert line.startswith("# 说明：请删除此行。 code: 所在年份使用的 6 位代码") and "new | repeat | upgraded" in line


# -- poverty exit years --------------------------------------------------------------------------

EXIT_YEAR_MESSAGE = "The exit year must be between 2016 and 2020: the poverty counties exited poverty in those years."
EXIT_YEAR_MESSAGE_ZH = "摘帽年份必须在 2016 至 2020 年之间：贫困县均在这几年脱贫摘帽。"


@pytest.mark.parametrize("year", ["2030", "2012", "2015", "2021"])
def test_an_impossible_exit_year_is_refused_on_its_field(admin_client, year):
    status = models.PovertyStatus.objects.get(unit__key="130721")
    url = reverse("admin:counties_povertystatus_change", args=[status.pk])
    response = admin_client.post(url, admin_form_data(admin_client.get(url), exit_year=year, change_reason="checked"))
    assert response.status_code == 200
    # On the field, in the page's language, and nothing at the top of the form.
    assert response.context["adminform"].form.errors == {"exit_year": [EXIT_YEAR_MESSAGE]}
    chinese = url.replace("/en/admin/", "/admin/")
    response = admin_client.post(chinese, admin_form_data(admin_client.get(chinese), exit_year=year, change_reason="核对"))
    assert response.context["adminform"].form.errors == {"exit_year": [EXIT_YEAR_MESSAGE_ZH]}
    status.refresh_from_db()
    assert status.exit_year == 2018


def test_an_exit_year_within_2016_to_2020_or_none_is_saved(admin_client):
    status = models.PovertyStatus.objects.get(unit__key="130721")
    url = reverse("admin:counties_povertystatus_change", args=[status.pk])
    for year, stored in (("2020", 2020), ("2016", 2016), ("", None)):
        response = admin_client.post(url, admin_form_data(admin_client.get(url), exit_year=year, change_reason="checked"))
        assert response.status_code == 302
        status.refresh_from_db()
        assert status.exit_year == stored


# -- roles ------------------------------------------------------------------------------------


def staff(role, province=None):
    user = User.objects.create_user(f"{role.split()[0]}-{User.objects.count()}", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    if province:
        models.StaffProfile.objects.create(user=user, province=models.Province.objects.get(code=province))
    return user


def test_roles_exist_with_their_permissions():
    editors = set(Group.objects.get(name=DATA_EDITORS).permissions.values_list("codename", flat=True))
    assert {"add_designation", "change_fundingallocation", "delete_povertystatus", "view_unit"} <= editors
    assert "change_unit" not in editors
    reference = set(Group.objects.get(name=REFERENCE_ADMINISTRATORS).permissions.values_list("codename", flat=True))
    assert {"change_unit", "add_batch", "view_designation"} <= reference and "change_designation" not in reference
    viewers = set(Group.objects.get(name=VIEWERS).permissions.values_list("codename", flat=True))
    assert viewers and all(code.startswith("view_") for code in viewers)
    assert Group.objects.filter(name=PROVINCIAL_EDITORS).exists()


def test_viewer_cannot_change_anything(client):
    client.force_login(staff(VIEWERS))
    designation = models.Designation.objects.first()
    assert client.get(reverse("admin:counties_designation_change", args=[designation.pk])).status_code == 200
    page = client.get(reverse("admin:counties_designation_change", args=[designation.pk])).content.decode()
    assert 'name="_save"' not in page
    response = client.post(reverse("admin:counties_designation_change", args=[designation.pk]), {"kind": "upgraded"})
    assert response.status_code == 403
    assert client.get(reverse("admin:counties_designation_add")).status_code == 403
    assert client.get(reverse("admin:counties_designation_import")).status_code == 403
    designation.refresh_from_db()
    assert designation.kind == "new"


def designation_form(designation, **changes):
    data = {
        "unit": designation.unit_id,
        "batch": designation.batch_id,
        "kind": designation.kind,
        "is_old_revolutionary_base": "unknown",
        "name_as_reported": designation.name_as_reported,
        "source": designation.source,
        "source_kind": designation.source_kind,
        "source_note": designation.source_note,
        "loaded_version": designation.updated_at.isoformat(),
        "change_reason": "checked against the notice",
    }
    return data | changes


def test_provincial_editor_changes_only_their_province(client):
    client.force_login(staff(PROVINCIAL_EDITORS, province="130000"))
    hebei = models.Designation.objects.filter(unit__province__code="130000").first()
    other = models.Designation.objects.exclude(unit__province__code="130000").first()
    # Everything is visible ...
    assert client.get(reverse("admin:counties_designation_change", args=[other.pk])).status_code == 200
    # ... but only Hebei's records change.
    response = client.post(
        reverse("admin:counties_designation_change", args=[other.pk]), designation_form(other, is_old_revolutionary_base="true")
    )
    assert response.status_code == 403
    response = client.post(
        reverse("admin:counties_designation_change", args=[hebei.pk]), designation_form(hebei, is_old_revolutionary_base="true")
    )
    assert response.status_code == 302
    # Nor can a new record be added for another province.
    add = designation_form(other) | {"unit": models.Unit.objects.get(code="110101").pk, "loaded_version": "", "change_reason": ""}
    response = client.post(reverse("admin:counties_designation_add"), add)
    assert response.status_code == 200
    assert not models.Designation.objects.filter(unit__code="110101").exists()
    assert (
        "You may change records of 河北省 only; 东城区 (110101) — 2014年电子商务进农村综合示范县 is not one of them."
        in response.content.decode()
    )


# -- history ----------------------------------------------------------------------------------


def test_admin_edit_and_delete_are_recorded_with_diffs_and_reasons(admin_client, admin_user):
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    url = reverse("admin:counties_designation_change", args=[designation.pk])
    response = admin_client.post(url, designation_form(designation, is_old_revolutionary_base="true", change_reason="evaluation passed"))
    assert response.status_code == 302
    record = designation.history.order_by("-history_date").first()
    assert (record.history_type, record.history_user, record.history_change_reason) == ("~", admin_user, "evaluation passed")
    delta = record.diff_against(record.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("is_old_revolutionary_base", None, True)]
    history_page = admin_client.get(reverse("admin:counties_designation_history", args=[designation.pk])).content.decode()
    assert "evaluation passed" in history_page
    # In the field's label and the choices' labels, not the stored values.
    assert (
        '<strong>Old revolutionary base county</strong>: <span class="history-old">unknown</span> → <span class="history-new">yes</span>'
        in history_page
    )

    delete_url = reverse("admin:counties_designation_delete", args=[designation.pk])
    refused = admin_client.post(delete_url, {"post": "yes"})  # no reason
    assert refused.status_code == 200
    assert models.Designation.objects.filter(pk=designation.pk).exists()
    assert admin_client.post(delete_url, {"post": "yes", "reason": "entered in the wrong batch"}).status_code == 302
    deleted = models.Designation.history.filter(id=designation.pk, history_type="-").get()
    assert (deleted.history_user, deleted.history_change_reason) == (admin_user, "entered in the wrong batch")


@pytest.mark.parametrize("model_name", ["unit", "designation", "batch", "province"])
def test_every_add_and_change_form_asks_for_a_reason(admin_client, model_name):
    for view, args in (("add", []), ("change", [first_pk(model_name)])):
        page = admin_client.get(reverse(f"admin:counties_{model_name}_{view}", args=args)).content.decode()
        assert 'name="change_reason"' in page, (model_name, view)
        assert ('name="change_reason"' in page and "required" in page.split('name="change_reason"')[1].split(">")[0]) == (view == "change")


def test_a_change_without_a_reason_is_refused_and_an_add_gets_a_default(admin_client, admin_user):
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    url = reverse("admin:counties_designation_change", args=[designation.pk])
    refused = admin_client.post(url, designation_form(designation, is_old_revolutionary_base="true", change_reason=" "))
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    designation.refresh_from_db()
    assert designation.kind == "new"

    unit = models.Unit.objects.get(code="110101")
    add = designation_form(designation) | {"unit": unit.pk, "loaded_version": "", "change_reason": ""}
    assert admin_client.post(reverse("admin:counties_designation_add"), add).status_code == 302
    added = models.Designation.objects.get(unit=unit, batch=designation.batch)
    history = [(h.history_type, h.history_user, h.history_change_reason) for h in added.history.all()]
    assert history == [("+", admin_user, "added in the admin")]


def test_a_default_reason_is_stored_as_the_doors_words_whatever_the_editors_language(admin_client):
    """A Chinese editor's add: the history keeps the door's stable words, which each reader reads in
    their own language (stored translated, they would read Chinese to an English reader)."""
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    add = designation_form(designation) | {"unit": models.Unit.objects.get(code="110101").pk, "loaded_version": "", "change_reason": ""}
    with translation.override("zh-hans"):
        url = reverse("admin:counties_designation_add")
    assert url.startswith("/admin/") and admin_client.post(url, add).status_code == 302
    added = models.Designation.objects.get(unit__code="110101", batch=designation.batch)
    assert added.history.get().history_change_reason == "added in the admin"
    with translation.override("en"):
        assert history.reason_in_words("added in the admin") == "added in the admin"
    with translation.override("zh-hans"):
        assert history.reason_in_words("added in the admin") == "在后台添加"


def test_a_units_inline_successions_get_the_units_reason(admin_client):
    unit = models.Unit.objects.get(code="130729")  # 万全县, one succession: 万全区
    succession = unit.successions.get()
    url = reverse("admin:counties_unit_change", args=[unit.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name not in ("current",)}
    data |= {"province": unit.province_id, "prefecture": unit.prefecture_id or "", "first_year": unit.first_year}
    data |= {"last_year": unit.last_year, "name_en": "Wanquan County (checked)", "change_reason": "checked by the officer"}
    data |= {"loaded_version": unit.updated_at.isoformat()}
    data |= {
        "successions-TOTAL_FORMS": 1,
        "successions-INITIAL_FORMS": 1,
        "successions-0-id": succession.pk,
        "successions-0-predecessor": unit.pk,
        "successions-0-successor": succession.successor_id,
        "successions-0-successor_code": succession.successor_code,
        "successions-0-year": 2017,  # corrected
        "successions-0-kind": succession.kind,
        "successions-0-is_primary": "on",
        **{f"{prefix}-{k}": v for prefix in ("designations", "funding") for k, v in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))},
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert unit.history.latest().history_change_reason == "checked by the officer"
    assert succession.history.latest().history_change_reason == "checked by the officer"
    assert succession.history.latest().year == 2017


def test_record_as_of_a_past_date(admin_client):
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    url = reverse("admin:counties_designation_change", args=[designation.pk])
    admin_client.post(url, designation_form(designation, is_old_revolutionary_base="true"))
    # Move the first change back in time, as if made last year.
    first = designation.history.order_by("history_date").first()
    if first.history_type != "+":
        models.Designation.history.create(
            id=designation.pk,
            unit_id=designation.unit_id,
            batch_id=designation.batch_id,
            kind="new",
            source=designation.source,
            source_kind=designation.source_kind,
            source_note="",
            name_as_reported="",
            history_type="+",
            history_date=timezone.now() - timezone.timedelta(days=365),
        )
    else:
        models.Designation.history.filter(pk=first.pk).update(history_date=timezone.now() - timezone.timedelta(days=365))
    as_of = reverse("admin:counties_designation_as_of", args=[designation.pk])
    last_year = (timezone.localdate() - timezone.timedelta(days=300)).isoformat()
    page = admin_client.get(as_of, {"date": last_year}).content.decode()
    assert '<th scope="row">Old revolutionary base county</th><td>unknown</td>' in page
    today = admin_client.get(as_of, {"date": timezone.localdate().isoformat()}).content.decode()
    assert '<th scope="row">Old revolutionary base county</th><td>yes</td>' in today  # the value in words


def test_history_cannot_be_edited(admin_client):
    designation = models.Designation.objects.first()
    admin_client.post(
        reverse("admin:counties_designation_change", args=[designation.pk]), designation_form(designation, is_old_revolutionary_base="true")
    )
    record = designation.history.first()
    url = reverse("admin:counties_designation_simple_history", args=[designation.pk, record.history_id])
    count = designation.history.count()
    admin_client.post(url, {"kind": "upgraded"})
    assert designation.history.count() == count
    assert designation.history.filter(kind="upgraded").count() == 0
    designation.refresh_from_db()
    assert designation.is_old_revolutionary_base is True


# -- no lost edits ----------------------------------------------------------------------------


def test_second_of_two_concurrent_edits_is_refused_and_keeps_its_input(admin_client):
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    url = reverse("admin:counties_designation_change", args=[designation.pk])
    opened_by_both = designation_form(designation)
    assert admin_client.post(url, opened_by_both | {"is_old_revolutionary_base": "true"}).status_code == 302  # the first save
    second = admin_client.post(url, opened_by_both | {"kind": "upgraded", "name_as_reported": "my careful input"})
    assert second.status_code == 200
    page = second.content.decode()
    assert "Someone else saved this record at " in page and "Your changes were not saved and are kept below" in page
    assert "my careful input" in page  # the form keeps what the second person typed
    designation.refresh_from_db()
    assert designation.is_old_revolutionary_base is True  # the first edit was not overwritten


def test_a_refused_save_says_who_changed_which_fields_and_when(admin_client, django_assert_max_num_queries):
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    note = designation.source_note
    url = reverse("admin:counties_designation_change", args=[designation.pk])
    chinese = url.replace("/en/admin/", "/admin/")
    opened, opened_zh = admin_form_data(admin_client.get(url)), admin_form_data(admin_client.get(chinese))
    # Meanwhile 王 saves two fields of the same record from his own session.
    wang = User.objects.create_superuser("wang", password="x")
    other = Client()
    other.force_login(wang)
    saved = other.post(
        url, admin_form_data(other.get(url), is_old_revolutionary_base="true", name_as_reported="宣化", change_reason="notice checked")
    )
    assert saved.status_code == 302
    at = timezone.localtime(designation.history.latest("history_id").history_date).strftime("%Y-%m-%d %H:%M:%S")

    with django_assert_max_num_queries(PAGE_QUERY_LIMIT + 5):
        refused = admin_client.post(url, opened | {"source_note": "my careful input", "change_reason": "mine"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.non_field_errors() == [
        "Someone else saved this record while you were editing it: "
        f"wang changed old revolutionary base county, name as reported (at {at}). "
        "Your changes were not saved and are kept below: compare them with the record's history, then save again to overwrite."
    ]
    refused_zh = admin_client.post(chinese, opened_zh | {"source_note": "my careful input", "change_reason": "核对"})
    assert refused_zh.context["adminform"].form.non_field_errors() == [
        f"您编辑期间，其他人保存了这条记录：wang 于 {at} 修改了革命老区县、报道所用名称。"
        "您的修改尚未保存，保留在下方：请对照记录的修改历史，再次保存即可覆盖。"
    ]
    designation.refresh_from_db()
    assert (designation.is_old_revolutionary_base, designation.name_as_reported, designation.source_note) == (True, "宣化", note)
    # Saving the kept input again overwrites knowingly (the version was moved on to 王's).
    again = admin_client.post(url, refused.context["adminform"].form.data)
    assert again.status_code == 302
    designation.refresh_from_db()
    assert designation.source_note == "my careful input"


def test_a_refusal_after_many_saves_lists_the_latest_five(admin_client):
    from counties.writes.services import save_record

    designation = models.Designation.objects.filter(source_kind="secondary").first()
    url = reverse("admin:counties_designation_change", args=[designation.pk])
    opened = admin_form_data(admin_client.get(url))
    importer = User.objects.create_user("importer")
    for n in range(7):
        record = models.Designation.objects.get(pk=designation.pk)  # each door saves the record it read
        record.name_as_reported = f"name {n}"
        save_record(record, user=importer if n % 2 else None, reason=f"save {n}")
    refused = admin_client.post(url, opened | {"change_reason": "mine"})
    message = refused.context["adminform"].form.non_field_errors()[0]
    saves = message.removeprefix("Someone else saved this record while you were editing it: ").split(". Your changes")[0].split("; ")
    assert saves[0] == "2 earlier saves (see the history)"
    # The five latest, oldest first; a save with no user recorded (a command-line import) is "someone".
    assert [save.split(" (at ")[0] for save in saves[1:]] == [
        "someone changed name as reported",
        "importer changed name as reported",
        "someone changed name as reported",
        "importer changed name as reported",
        "someone changed name as reported",
    ]


# -- sign-in protection -----------------------------------------------------------------------


def test_repeated_failed_sign_ins_lock_the_account_out(client, caplog, settings):
    settings.AXES_FAILURE_LIMIT = 3
    User.objects.create_user("officer", password="the-right-password", is_staff=True)
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "officer", "password": "wrong"})
    assert response.status_code == 429
    locked = client.post("/admin/login/", {"username": "officer", "password": "the-right-password"})
    assert locked.status_code == 429  # even the right password, while locked
    assert "Locking out" in caplog.text
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(username="officer").exists()
