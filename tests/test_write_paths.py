"""Issue 9, the bulk write path: one replacement rule, a template that cannot be imported, scope
that fails closed, codes valid in their year, a cheap data version, roster commands that cannot be
broken. Each test names the case of the issue it proves impossible."""

import csv
import io
import re

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from counties import models
from counties.caching.token import data_version
from counties.reads import statistics
from counties.writes.imports.programme import RESOURCES, DesignationResource, template_rows

from .conftest import confirm, import_in_admin, run_command
from .factories import HEADER, OFFICIAL_HEBEI_2016, FundingAllocationFactory, csv_file, illustrative, provincial_editor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


# -- 1. the template cannot be imported by mistake --------------------------------------------------


@pytest.mark.parametrize("kind", ["designations", "funding", "poverty"])
def test_importing_the_template_unchanged_writes_nothing(tmp_path, kind):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(template_rows(kind))
    model = RESOURCES[kind]._meta.model
    before = (model.objects.count(), illustrative(batch__year=2019).count())
    command = {"designations": "import_designations", "funding": "import_funding", "poverty": "import_poverty_statuses"}[kind]
    with pytest.raises(CommandError, match="template's instruction row"):
        run_command(command, str(csv_file(tmp_path, buffer.getvalue())))
    assert (model.objects.count(), illustrative(batch__year=2019).count()) == before


def test_the_admin_template_is_refused_by_the_admin_import(admin_client):
    template = admin_client.get(reverse("admin:counties_designation_import_template")).content
    before = illustrative(batch__year=2019).count()
    preview = import_in_admin(admin_client, "designation", template)
    page = preview.content.decode()
    assert "template&#x27;s instruction row" in page or "template's instruction row" in page
    assert 'name="import_file_name"' not in page  # nothing to confirm
    assert illustrative(batch__year=2019).count() == before > 200


# -- 2. a provincial editor's import replaces their own province's cell only ---------------------------


def test_provincial_editor_import_removes_only_their_own_cell(client):
    editor = provincial_editor()
    elsewhere = illustrative(batch__year=2016).exclude(unit__province__code="130000").count()
    hebei_removed = list(illustrative(batch__year=2016, unit__province__code="130000").values_list("pk", flat=True))
    assert len(hebei_removed) == 6 and elsewhere > 100
    client.force_login(editor)
    preview = import_in_admin(client, "designation", OFFICIAL_HEBEI_2016)
    page = preview.content.decode()
    assert "designations: 1 created, 0 changed, 0 unchanged." in page
    assert "6 illustrative designations removed (0 funding records with them)" in page  # the preview says what goes
    assert re.search(r"<td>2016-1</td><td>河北省</td><td>1</td><td>0</td><td>6</td>", page)
    done = confirm(client, "designation", preview, reason="冀商函〔2016〕12号")
    assert done.status_code == 302
    assert illustrative(batch__year=2016).exclude(unit__province__code="130000").count() == elsewhere
    assert not illustrative(batch__year=2016, unit__province__code="130000").exists()
    history = models.Designation.history.filter(history_type="-", id__in=hebei_removed)
    assert sorted(history.values_list("id", "history_user__username", "history_change_reason")) == sorted(
        (pk, "hebei", "冀商函〔2016〕12号") for pk in hebei_removed
    )
    message = [str(m) for m in done.wsgi_request._messages]
    assert message == [
        "Import of designations finished: 1 created, 0 changed, 0 unchanged. "
        "6 illustrative designations removed (0 funding records with them)."
    ]


def test_the_confirmation_needs_a_reason(admin_client):
    preview = import_in_admin(admin_client, "designation", OFFICIAL_HEBEI_2016)
    refused = confirm(admin_client, "designation", preview, reason="")
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    assert illustrative(batch__year=2016, unit__province__code="130000").count() == 6
    assert not models.Designation.objects.filter(unit__code="130102").exists()


def test_files_beyond_the_admin_limit_point_to_the_command(admin_client, monkeypatch):
    monkeypatch.setattr("counties.admin.base.ADMIN_MAX_ROWS", 1)
    preview = import_in_admin(admin_client, "designation", OFFICIAL_HEBEI_2016 + "130103,2016,new,doc,official\n")
    page = preview.content.decode()
    assert "The file has 2 rows; the admin imports at most 1" in page and "manage.py import_designations FILE" in page
    assert not models.Designation.objects.filter(unit__code="130102").exists()


# -- 3. no dependence on process state ----------------------------------------------------------------


def test_command_line_import_replaces_in_a_fresh_process(tmp_path, monkeypatch):
    # A fresh process: no admin import has run, so import-export's class-wide option is unset.
    monkeypatch.setattr(DesignationResource._meta, "store_instance", False)
    run_command("import_designations", str(csv_file(tmp_path, OFFICIAL_HEBEI_2016)))
    assert not illustrative(batch__year=2016, unit__province__code="130000").exists()


def test_an_admin_import_leaves_no_state_behind(admin_client, monkeypatch):
    monkeypatch.setattr(DesignationResource._meta, "store_instance", False)  # as in a fresh process
    options = (DesignationResource._meta.store_instance, DesignationResource._meta.skip_html_diff)
    preview = import_in_admin(admin_client, "designation", OFFICIAL_HEBEI_2016)
    assert confirm(admin_client, "designation", preview).status_code == 302
    assert (DesignationResource._meta.store_instance, DesignationResource._meta.skip_html_diff) == options


# -- 4 and 5. scope fails closed, on the stored record as well as the new one --------------------------


def test_provincial_editor_cannot_move_another_provinces_funding_record(tmp_path, client):
    provincial_editor()
    beijing = FundingAllocationFactory(unit=models.Unit.objects.get(code="110101"), fiscal_year=2019)
    content = f"id,code,fiscal_year,level,amount_yuan,source,source_kind\n{beijing.pk},130705,2019,central,5,doc,official\n"
    with pytest.raises(CommandError, match=f"id {beijing.pk} is in another province; you may import records of 河北省 only"):
        run_command("import_funding", str(csv_file(tmp_path, content, "f.csv")), "--user", "hebei")
    beijing.refresh_from_db()
    assert beijing.unit.code == "110101"


def test_provincial_editor_without_a_province_writes_nothing(tmp_path, client):
    editor = provincial_editor(province=None, name="nowhere")
    with pytest.raises(CommandError, match="provincial editor without a province"):
        run_command("import_designations", str(csv_file(tmp_path, OFFICIAL_HEBEI_2016)), "--user", "nowhere")
    client.force_login(editor)
    assert client.get(reverse("admin:counties_designation_add")).status_code == 403
    assert client.get(reverse("admin:counties_designation_import")).status_code == 403
    hebei = models.Designation.objects.filter(unit__province__code="130000").first()
    response = client.post(reverse("admin:counties_designation_change", args=[hebei.pk]), {"kind": "repeat"})
    assert response.status_code == 403
    _, key = models.ApiToken.issue(editor, "nowhere", can_write=True)
    response = client.post(
        "/api/v1/designations/",
        {"unit": "130102", "batch": hebei.batch_id, "source": "s", "source_kind": "official"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 403
    assert not models.Designation.objects.filter(unit__code="130102").exists()


# -- 6. codes valid in their year, on every door ---------------------------------------------------------

NOT_YET = (
    "code 632803 (茫崖市) was not in use in 2016; it was created in 2018; "
    "in 2016 use its predecessor X632801 (冷湖行委) or X632802 (茫崖行委)"
)


def test_an_import_refuses_a_code_not_yet_in_use(tmp_path):
    with pytest.raises(CommandError, match=re.escape(NOT_YET)):
        run_command("import_designations", str(csv_file(tmp_path, HEADER + "632803,2016,new,doc,official\n")))
    funding = "code,fiscal_year,level,amount_yuan,source,source_kind\n632803,2016,central,5,doc,official\n"
    with pytest.raises(CommandError, match=re.escape(NOT_YET)):
        run_command("import_funding", str(csv_file(tmp_path, funding, "f.csv")))


def test_the_admin_form_and_the_api_refuse_a_code_not_yet_in_use(admin_client, admin_user):
    batch = models.Batch.objects.get(year=2016)
    form = {"unit": models.Unit.objects.get(key="632803").pk, "batch": batch.pk, "kind": "new"}
    form |= {"is_old_revolutionary_base": "unknown", "source": "doc", "source_kind": "official", "source_note": ""}
    response = admin_client.post(reverse("admin:counties_designation_add"), form)
    assert response.status_code == 200 and NOT_YET in response.content.decode()
    _, key = models.ApiToken.issue(admin_user, "admin", can_write=True)
    response = admin_client.post(
        "/api/v1/designations/",
        {"unit": "632803", "batch": batch.pk, "source": "s", "source_kind": "official"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and NOT_YET in str(response.json())
    assert not models.Designation.objects.filter(unit__key="632803", batch=batch).exists()


def test_the_import_and_the_api_refuse_an_impossible_exit_year_with_the_admins_message(tmp_path, admin_user):
    message = "The exit year must be between 2016 and 2020: the poverty counties exited poverty in those years."
    status = models.PovertyStatus.objects.get(unit__key="130721")
    header = "code,listed_name,region,exit_year,source,source_kind\n"
    _, key = models.ApiToken.issue(admin_user, "admin", can_write=True)
    for year in (2030, 2012):
        row = f"130721,宣化县,east,{year},国开办发〔2019〕1号,official\n"
        with pytest.raises(CommandError) as refused:
            run_command("import_poverty_statuses", str(csv_file(tmp_path, header + row, "p.csv")))
        assert f"exit_year: {message}" in str(refused.value)
        response = Client().patch(
            f"/api/v1/poverty-statuses/{status.pk}/?reason=checked",
            {"exit_year": year},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"exit_year": [message]}
    status.refresh_from_db()
    assert status.exit_year == 2018


# -- 7. a cheap data version: once per transaction, after the commit, never in a dry run ------------------


def test_a_dry_run_and_a_preview_leave_the_data_version_alone(tmp_path, admin_client, django_capture_on_commit_callbacks):
    token = data_version()
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_command("import_designations", str(csv_file(tmp_path, OFFICIAL_HEBEI_2016)), "--dry-run")
        import_in_admin(admin_client, "designation", OFFICIAL_HEBEI_2016)
    assert (callbacks, data_version()) == ([], token)
    assert not [q["sql"] for q in queries if "counties_dataversion" in q["sql"] and not q["sql"].startswith("SELECT")]


def test_an_import_changes_the_token_once_after_it_commits(tmp_path, django_capture_on_commit_callbacks):
    from counties.caching.token import _write_new_token

    rows = "".join(f"{code},2016,new,doc,official\n" for code in ("130102", "130104", "130105", "130108"))
    token = data_version()
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
        run_command("import_designations", str(csv_file(tmp_path, HEADER + rows)))
    # Nothing inside the import's transaction touches the data-version row (no lock held) ...
    assert not [q["sql"] for q in queries if "counties_dataversion" in q["sql"]]
    # ... one bump waits for the commit, however many records were written and removed.
    assert callbacks == [_write_new_token]
    callbacks[0]()
    assert data_version() != token


def test_every_door_changes_the_next_statistic(admin_client, admin_user):
    """Admin change and delete, API update and delete, the roster: each calls the service, so the
    cached statistics of the write's own process follow (the import, the admin add, the API create
    and the reference reload are checked in test_imports, test_statistics and test_api)."""
    record = models.Designation.objects.filter(batch__year=2019, source_kind="secondary").first()
    before, latest = statistics.coverage(2019).batch_entries, statistics.coverage().batch_entries
    form = {"designation": record.pk, "step": "withdrawn", "year": "2020", "reason": "failed its assessment"}
    form |= {"source": "商办建函〔2020〕1号", "source_kind": "official", "source_note": "", "change_reason": "withdrawn by the ministry"}
    response = admin_client.post(reverse("admin:counties_lifecyclerecord_add"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert statistics.coverage(2019).batch_entries == before  # withdrawn in 2020: it counted at end-2019
    assert statistics.coverage().batch_entries == latest - 1  # and not from 2020 on


@pytest.mark.parametrize("door", ["admin delete", "api update", "api delete", "roster removal"])
def test_each_door_invalidates_the_cached_statistics(admin_client, admin_user, door):
    record = models.Designation.objects.filter(batch__year=2019, source_kind="secondary").first()
    before = statistics.coverage(2019).batch_entries  # cached
    _, key = models.ApiToken.issue(admin_user, "admin", can_write=True)
    api = {"content_type": "application/json", "HTTP_AUTHORIZATION": f"Token {key}"}
    if door == "admin delete":
        admin_client.post(reverse("admin:counties_designation_delete", args=[record.pk]), {"post": "yes", "reason": "duplicate"})
        expected = before - 1
    elif door == "api update":
        assert (
            admin_client.patch(
                f"/api/v1/designations/{record.pk}/?reason=moved", {"batch": models.Batch.objects.get(year=2021).pk}, **api
            ).status_code
            == 200
        )
        expected = before - 1
    elif door == "api delete":
        assert admin_client.delete(f"/api/v1/designations/{record.pk}/?reason=duplicate", **api).status_code == 204
        expected = before - 1
    else:
        run_command("load_illustrative_roster", "--remove")
        expected = models.Designation.objects.filter(batch__year__lte=2019).count()
    assert statistics.coverage(2019).batch_entries == expected


# -- 10. roster commands cannot be broken; no import reports success for rows it rolled back ---------------


@pytest.fixture
def real_funding_on_an_illustrative_designation():
    """A record written before such links were refused (straight into the database)."""
    target = illustrative(batch__year=2016, unit__province__code="130000").order_by("unit__key").first()
    return FundingAllocationFactory(unit=target.unit, designation=target, fiscal_year=2016, source_kind="official")


def test_roster_commands_stop_and_name_the_record(real_funding_on_an_illustrative_designation, monkeypatch):
    from counties.writes import roster

    funding = real_funding_on_an_illustrative_designation
    message = f"funding record {funding.pk} \\(official\\) points at illustrative designation"
    count = illustrative().count()
    with pytest.raises(CommandError, match=message):
        run_command("load_illustrative_roster", "--remove")
    assert illustrative().count() == count
    assert "Nothing changed" in run_command("load_illustrative_roster")  # nothing to replace: no removal needed
    build = roster.RosterBuilder.build

    def without_the_funded_record(self):
        plan = build(self)
        del plan.designations[(funding.designation.unit_id, 2016)]
        return plan

    monkeypatch.setattr(roster.RosterBuilder, "build", without_the_funded_record)  # the roster must remove it
    with pytest.raises(CommandError, match=message):
        run_command("load_illustrative_roster")
    assert illustrative().count() == count


def test_an_import_that_cannot_replace_reports_the_failure(admin_client, real_funding_on_an_illustrative_designation):
    preview = import_in_admin(admin_client, "designation", OFFICIAL_HEBEI_2016)
    done = confirm(admin_client, "designation", preview)
    page = done.content.decode()
    assert done.status_code == 200 and "Nothing was imported" in page and "finished:" not in page
    assert f"funding record {real_funding_on_an_illustrative_designation.pk}" in page
    assert not models.Designation.objects.filter(unit__code="130102", batch__year=2016).exists()
    assert illustrative(batch__year=2016, unit__province__code="130000").count() == 6


def test_a_real_record_cannot_be_tied_to_an_illustrative_one(admin_client, admin_user):
    target = illustrative(batch__year=2016).first()
    _, key = models.ApiToken.issue(admin_user, "admin", can_write=True)
    payload = {"unit": target.unit.key, "designation": target.pk, "fiscal_year": 2016, "level": "central", "amount": "5"}
    payload |= {"source": "s", "source_kind": "official"}
    response = admin_client.post(
        "/api/v1/funding-allocations/",
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and "is illustrative; a funding record of kind official cannot point at it" in str(response.json())


def holds_the_feed_lock(query: dict) -> bool:
    """The change feed's lock, taken on PostgreSQL before each write of its rows (counties.writes.feed)."""
    return "pg_advisory_xact_lock" in query["sql"]


def test_roster_removal_is_a_handful_of_queries_with_history():
    from counties.writes.roster import REMOVE_REASON

    designations = illustrative().count()
    funding = models.FundingAllocation.objects.filter(source_kind="illustrative").count()
    assert designations == 1146 and funding > 100
    with CaptureQueriesContext(connection) as queries:
        run_command("load_illustrative_roster", "--remove")
    statements = [q["sql"].split()[0] for q in queries if not holds_the_feed_lock(q)]
    # SAVEPOINT; SELECT the illustrative designations; SELECT their funding (2 chunks of 900 ids;
    # each record is of its designation's unit, so no lineage is read to tell another place's);
    # SELECT the lifecycle records that would stop the removal (one query); DELETE that funding
    # (1 chunk) and the designations (2 chunks); SELECT the other illustrative funding and DELETE
    # it; DELETE the roster's snapshots of designations and of funding; RELEASE SAVEPOINT. And the
    # change feed's: SELECT the removed records' keys and provinces before they go (the
    # designations in 2 chunks, their funding and the other funding in 1 each).
    assert len([s for s in statements if s != "INSERT"]) == 13 + 4
    # The history rows, and the feed's tombstones, go in as many rows per INSERT as the database
    # takes (at least 50 on SQLite, 1,000 on PostgreSQL), not one per record.
    assert statements.count("INSERT") <= 2 * ((designations + funding) // 50 + 3)
    removed = models.Designation.history.filter(history_type="-", history_change_reason=REMOVE_REASON)
    assert removed.count() == designations
    assert models.FundingAllocation.history.filter(history_type="-", history_change_reason=REMOVE_REASON).count() == funding


def test_bulk_removal_costs_the_same_for_one_record_or_forty_and_writes_each_history_entry_once():
    """remove_funding deletes with one DELETE per 900 rows: QuerySet.delete() would load the rows
    again and write a second history entry (without the reason) for each through its signals."""
    from counties.writes.services import remove_funding

    funding = models.FundingAllocation.objects.filter(source_kind="illustrative").order_by("pk")
    one, forty = [f.pk for f in funding[:1]], [f.pk for f in funding[1:41]]
    statements = []
    for chosen in (one, forty):
        with CaptureQueriesContext(connection) as queries:
            assert remove_funding(models.FundingAllocation.objects.filter(pk__in=chosen), user=None, reason="bulk test") == len(chosen)
        statements.append([q["sql"].split()[0] for q in queries if not holds_the_feed_lock(q)])
        assert not models.FundingAllocation.objects.filter(pk__in=chosen).exists()
    # SELECT the records; SELECT what the change feed's tombstones name and INSERT them; INSERT
    # their history entries; DELETE them.
    assert statements[0] == statements[1] == ["SELECT", "SELECT", "INSERT", "INSERT", "DELETE"]
    removed = models.FundingAllocation.history.filter(id__in=one + forty, history_type="-")
    assert sorted(removed.values_list("id", flat=True)) == sorted(one + forty)
    assert set(removed.values_list("history_change_reason", flat=True)) == {"bulk test"}


# -- a link stays within one place, through every door ------------------------------------------------

SHANXI = "140000"


def shanxi_illustrative_2016():
    return illustrative(batch__year=2016, unit__province__code=SHANXI).select_related("unit", "batch").order_by("pk").first()


def test_a_hebei_editors_api_funding_cannot_point_at_a_shanxi_designation(client):
    shanxi = shanxi_illustrative_2016()
    _, key = models.ApiToken.issue(provincial_editor(), "hebei", can_write=True)
    payload = {"unit": "130102", "designation": shanxi.pk, "fiscal_year": 2016, "level": "central", "amount": "5"}
    payload |= {"source": "roster", "source_kind": "illustrative"}
    before = models.FundingAllocation.objects.count()
    response = client.post(
        "/api/v1/funding-allocations/",
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    message = " ".join(response.json()["error"]["fields"]["designation"])
    assert f"cannot point at {shanxi}" in message and "山西省" in message and "130102" in message and "河北省" in message
    assert models.FundingAllocation.objects.count() == before


def test_a_funding_import_cannot_move_a_record_away_from_its_designations_place(tmp_path):
    funding = models.FundingAllocation.objects.filter(designation__isnull=False, unit__province__code="130000").first()
    elsewhere = models.Unit.objects.filter(province__code=SHANXI, last_year__isnull=True, first_year__lte=funding.fiscal_year).first()
    row = f"{funding.pk},{elsewhere.key},{funding.fiscal_year},{funding.level},{funding.amount},{funding.source},{funding.source_kind}\n"
    path = csv_file(tmp_path, "id,code,fiscal_year,level,amount_yuan,source,source_kind\n" + row, "funding.csv")
    with pytest.raises(CommandError, match=re.escape(f"cannot point at {funding.designation}")):
        run_command("import_funding", str(path), "--reason", "moved")
    assert models.FundingAllocation.objects.get(pk=funding.pk).unit_id == funding.unit_id


def test_a_shanxi_editors_import_does_not_remove_a_hebei_record_across_the_line(client):
    """The measured case: a Hebei record tied to a Shanxi illustrative designation (a link made
    before the place rule) is not deleted by the Shanxi editor's designation import."""
    shanxi = shanxi_illustrative_2016()
    crossing = FundingAllocationFactory(
        unit=models.Unit.objects.get(code="130102"), designation=shanxi, fiscal_year=2016, source_kind="illustrative"
    )
    cell = illustrative(batch__year=2016, unit__province__code=SHANXI).count()
    unit = models.Unit.objects.filter(province__code=SHANXI, last_year__isnull=True).exclude(designations__batch__year=2016).first()
    client.force_login(provincial_editor(SHANXI, "shanxi"))
    preview = import_in_admin(client, "designation", HEADER + f"{unit.key},2016,new,晋财建〔2016〕1号,official\n")
    done = confirm(client, "designation", preview, reason="晋财建〔2016〕1号")
    page = done.content.decode()
    assert done.status_code == 200 and "Nothing was imported" in page and "finished:" not in page
    assert f"cannot point at {shanxi}" in page.replace("&#x27;", "'")
    assert models.FundingAllocation.objects.filter(pk=crossing.pk, designation=shanxi).exists()
    assert illustrative(batch__year=2016, unit__province__code=SHANXI).count() == cell
    assert not models.Designation.objects.filter(unit=unit, batch__year=2016).exists()
