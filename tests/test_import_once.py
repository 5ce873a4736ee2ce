"""An import's confirmation writes once: a second confirmation (a double click, a retry after a lost
answer, a replay) writes nothing and names the import that wrote the file; a preview that is gone
(missing, expired, tampered, another person's, a changed format) is told so, never a 500. Two
simultaneous confirmations are in test_concurrency.py (PostgreSQL)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management.base import CommandError
from django.db import IntegrityError, OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from counties import models
from counties.admin.base import ImportExportRegistryAdmin
from counties.writes.imports import kept, programme, uploads

from .conftest import confirm, import_in_admin, run_command
from .factories import csv_file

FUNDING = "code,fiscal_year,level,amount_yuan,source,source_kind\n110101,2016,central,1000000,商建函〔2016〕9号,official\n"
GONE = "This preview is no longer available: choose the file again."


def funding_rows():
    return models.FundingAllocation.objects.filter(unit__code="110101", fiscal_year=2016, source="商建函〔2016〕9号").count()


def hidden_fields(preview):
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', preview.content.decode()))


def post_confirmation(client, fields, reason="2016 funding notice"):
    return client.post(reverse("admin:counties_fundingallocation_process_import"), {**fields, "reason": reason})


@pytest.fixture
def preview(admin_client, english):
    response = import_in_admin(admin_client, "fundingallocation", FUNDING, filename="funding-2016.csv")
    assert 'name="import_file_name"' in response.content.decode()
    return response


def test_a_second_confirmation_writes_nothing_and_names_the_import(admin_client, admin_user, preview):
    first = confirm(admin_client, "fundingallocation", preview)
    assert first.status_code == 302 and funding_rows() == 1
    assert [str(m) for m in first.wsgi_request._messages] == ["Import of funding allocations finished: 1 created, 0 changed, 0 unchanged."]
    record = models.ImportRecord.objects.get()
    again = confirm(admin_client, "fundingallocation", preview)  # a replay of the same confirmation
    page = again.content.decode()
    assert again.status_code == 200
    assert funding_rows() == 1 and models.ImportRecord.objects.count() == 1
    assert "This file has already been imported" in page
    assert f'href="/en/admin/dashboard/#import-{record.pk}"' in page
    assert "funding-2016.csv" in page and "1 created" in page
    dashboard = admin_client.get(reverse("admin:dashboard")).content.decode()
    assert f'id="import-{record.pk}"' in dashboard  # the link's target


def test_a_retry_after_the_worker_died_past_the_commit_writes_nothing_more(admin_client, preview, monkeypatch):
    """The commit happened, the answer never left: the session still names the file, as a killed
    worker leaves it, and the officer confirms again."""
    session_before = dict(admin_client.session)

    def killed(self, result, request):
        raise ConnectionResetError("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(ImportExportRegistryAdmin, "process_result", killed)
        with pytest.raises(ConnectionResetError):
            confirm(admin_client, "fundingallocation", preview)
    assert funding_rows() == 1
    session = admin_client.session
    session.update(session_before)
    session.save()
    retry = confirm(admin_client, "fundingallocation", preview)
    assert retry.status_code == 200 and "This file has already been imported" in retry.content.decode()
    assert funding_rows() == 1 and models.ImportRecord.objects.count() == 1


def gone_cases(fields):
    key = fields["import_file_name"]
    return {
        "missing key": {**fields, "import_file_name": "0" * 64},
        "tampered key": {**fields, "import_file_name": key[:-4] + "beef"},
        "a path for a key": {**fields, "import_file_name": "../../etc/passwd"},
        "no key": {k: v for k, v in fields.items() if k != "import_file_name"},
        "format changed": {**fields, "format": "1"},
        "format not a number": {**fields, "format": "csv"},
        "format out of range": {**fields, "format": "7"},
        "resource out of range": {**fields, "resource": "3"},
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing key",
        "tampered key",
        "a path for a key",
        "no key",
        "format changed",
        "format not a number",
        "format out of range",
        "resource out of range",
    ],
)
def test_a_preview_that_is_gone_is_told_so_and_writes_nothing(admin_client, preview, case):
    fields = gone_cases(hidden_fields(preview))[case]
    response = post_confirmation(admin_client, fields)
    assert response.status_code == 400
    assert GONE in response.content.decode()
    assert funding_rows() == 0 and not models.ImportRecord.objects.exists()
    # The real preview is still confirmable afterwards.
    assert confirm(admin_client, "fundingallocation", preview).status_code == 302 and funding_rows() == 1


def test_an_expired_preview_is_told_so(admin_client, preview, settings):
    models.KeptImport.objects.update(created_at=timezone.now() - timedelta(hours=settings.IMPORT_KEPT_HOURS, minutes=1))
    response = confirm(admin_client, "fundingallocation", preview)
    assert response.status_code == 400 and GONE in response.content.decode()
    assert funding_rows() == 0


def test_another_staff_member_cannot_confirm_someone_elses_preview(preview, english):
    other = Client()
    other.force_login(User.objects.create_superuser("colleague", password="x"))
    response = post_confirmation(other, hidden_fields(preview))
    assert response.status_code == 400 and GONE in response.content.decode()
    assert funding_rows() == 0 and not models.ImportRecord.objects.exists()


def test_the_uploader_in_another_browser_cannot_confirm_the_preview(admin_user, preview, english):
    elsewhere = Client()
    elsewhere.force_login(admin_user)  # the same person, another session
    response = post_confirmation(elsewhere, hidden_fields(preview))
    assert response.status_code == 400 and GONE in response.content.decode()
    assert funding_rows() == 0 and not models.ImportRecord.objects.exists()
    assert models.KeptImport.objects.get().session not in {"", elsewhere.session.session_key}  # a digest, never the key


def test_the_message_is_in_chinese_first(admin_client):
    preview = import_in_admin(admin_client, "fundingallocation", FUNDING)
    response = post_confirmation(admin_client, {**hidden_fields(preview), "import_file_name": "0" * 64})
    page = response.content.decode()
    assert response.status_code == 400 and "此预览已不可用，请重新选择文件。" in page and GONE not in page


def test_a_refused_reason_asks_again_and_keeps_the_preview_confirmable(admin_client, preview):
    response = post_confirmation(admin_client, hidden_fields(preview), reason="")
    assert response.status_code == 200 and 'name="reason"' in response.content.decode()
    assert funding_rows() == 0
    assert confirm(admin_client, "fundingallocation", preview).status_code == 302 and funding_rows() == 1


# -- the service ------------------------------------------------------------------------------------


@pytest.fixture
def officer(db):
    return User.objects.create_superuser("officer", password="x")


SESSION = "the-uploaders-session"


def kept_for(user, data=b"code\n", model="counties.fundingallocation", file_format="csv"):
    key = kept.keep(data)
    kept.bind(key, user=user, session_key=SESSION, model=model, file_format=file_format, file_name="f.csv")
    return key


def test_the_service_writes_a_kept_file_once(officer):
    key = kept_for(officer)
    record = models.ImportRecord.objects.create(model="counties.fundingallocation", rows=1, created=1, changed=0, unchanged=0, removed=0)
    calls = []

    def write(row):
        calls.append(bytes(row.data))
        return record

    assert (
        kept.confirm_once(key, user=officer, session_key=SESSION, model="counties.fundingallocation", file_format="csv", write=write)
        == record
    )
    with pytest.raises(kept.AlreadyImported) as second:
        kept.confirm_once(key, user=officer, session_key=SESSION, model="counties.fundingallocation", file_format="csv", write=write)
    assert second.value.record == record and calls == [b"code\n"]
    assert kept.read(key) is None  # its bytes are not kept once written


@pytest.mark.parametrize(
    "confirmation",
    [
        {"model": "counties.designation"},
        {"file_format": "xlsx"},
        {"key": "nothing-kept-here"},
        {"user": "colleague"},
        {"session_key": "another-browsers-session"},
        {"session_key": None},
    ],
)
def test_the_service_refuses_a_confirmation_that_is_not_the_previews(officer, confirmation):
    key = kept_for(officer)
    user = User.objects.create_user("colleague") if confirmation.get("user") else officer
    arguments = {"model": "counties.fundingallocation", "file_format": "csv", "session_key": SESSION, **confirmation, "user": user}
    calls = []
    with pytest.raises(kept.PreviewGone):
        kept.confirm_once(arguments.pop("key", key), write=calls.append, **arguments)
    assert calls == [] and kept.read(key) == b"code\n"


def test_a_file_nobody_was_given_cannot_be_confirmed(officer):
    key = kept.keep(b"code\n")  # kept, but the preview's request never bound it
    with pytest.raises(kept.PreviewGone):
        kept.confirm_once(key, user=officer, session_key=SESSION, model="", file_format="", write=lambda row: None)


def test_a_write_that_wrote_nothing_leaves_the_file_confirmable(officer):
    key = kept_for(officer)
    assert (
        kept.confirm_once(
            key, user=officer, session_key=SESSION, model="counties.fundingallocation", file_format="csv", write=lambda row: None
        )
        is None
    )
    assert kept.read(key) == b"code\n"


def test_expired_files_are_removed_when_a_file_is_kept(officer, settings):
    old, used = kept_for(officer), kept_for(officer)
    models.KeptImport.objects.filter(key=used).update(used_at=timezone.now())
    models.KeptImport.objects.filter(key=old).update(created_at=timezone.now() - timedelta(hours=settings.IMPORT_KEPT_HOURS + 1))
    kept.keep(b"new")
    assert not models.KeptImport.objects.filter(key=old).exists()
    # A written file is remembered until it expires, so a repeated confirmation can be answered.
    kept.DatabaseStorage(name=used).remove()
    assert models.KeptImport.objects.filter(key=used).exists()


def test_a_kept_file_is_at_most_the_import_size_limit(officer, settings, admin_client, english):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(uploads.UploadRejected):
        kept.keep(b"x" * 101)
    response = import_in_admin(admin_client, "fundingallocation", FUNDING + "x" * 100)
    assert response.status_code == 200
    assert response.context["form"].errors["import_file"] == ["The file is 0.0 MB; files of at most 0.0 MB are accepted."]
    assert not models.KeptImport.objects.exists()


# -- a write the database refuses because of another writer ------------------------------------------

RAW_ERRORS = [
    OperationalError("deadlock detected\nDETAIL:  Process 812 waits for ShareLock on transaction 9301"),
    IntegrityError(
        'duplicate key value violates unique constraint "designation_unique"\nDETAIL:  Key (unit_id, batch_id)=(1, 2) already exists.'
    ),
]


@pytest.mark.parametrize("error", RAW_ERRORS, ids=["deadlock", "duplicate key"])
def test_a_concurrent_write_is_reported_in_plain_words(admin_client, preview, monkeypatch, error):
    def refused(*args, **kwargs):
        raise error

    monkeypatch.setattr(programme, "write_records", refused)
    response = confirm(admin_client, "fundingallocation", preview)
    page = response.content.decode()
    assert response.status_code == 200
    assert "another import or edit changed these records at the same time; nothing was written; try again" in page
    assert "DETAIL" not in page and "deadlock" not in page and "duplicate key" not in page
    monkeypatch.undo()
    # Nothing was written, so the same preview can be confirmed again.
    assert confirm(admin_client, "fundingallocation", preview).status_code == 302 and funding_rows() == 1


def test_the_command_line_says_the_same(db, tmp_path, monkeypatch, english):
    def refused(*args, **kwargs):
        raise RAW_ERRORS[0]

    monkeypatch.setattr(programme, "write_records", refused)
    with pytest.raises(CommandError) as refusal:
        run_command("import_funding", str(csv_file(tmp_path, FUNDING, "funding.csv")))
    assert "another import or edit changed these records at the same time" in str(refusal.value)
    assert "deadlock" not in str(refusal.value)
