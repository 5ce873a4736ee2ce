"""No lost updates and no double writes: two real simultaneous writes of the same record (or two
confirmations of one import), each in its own thread with its own PostgreSQL connection.

A race is made certain, not left to chance: both requests are held just before they write until
the other has arrived there too (or 2 s have passed). Without a row lock both arrive, both read
the record before either wrote, and the second write undoes the first. With the lock, the second
request cannot read the record until the first has committed, so the first waits out the 2 s
alone, and the second then sees its result.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connections
from django.test import Client
from django.urls import reverse

from counties import models
from counties.admin.base import ImportExportRegistryAdmin, RegistryAdmin
from counties.api.views.records import RecordViewSet
from counties.writes.imports import programme

from .conftest import postgresql_only
from .factories import BatchFactory, DesignationFactory, unit

pytestmark = [postgresql_only, pytest.mark.usefixtures("separate_connections")]
API = "/api/v1"
FUNDING_FILE = "code,fiscal_year,level,amount_yuan,source,source_kind\n990101,2030,central,1000000,商建函〔2030〕1号,official\n"
WAIT_FOR_THE_OTHER = 2.0  # seconds


class Rendezvous:
    """Holds each caller until the other arrives too, or until the timeout passes."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=WAIT_FOR_THE_OTHER)

    def __call__(self) -> None:
        # Broken by the timeout: the other request is waiting for this one's row lock.
        with contextlib.suppress(threading.BrokenBarrierError):
            self.barrier.wait()


def hold_before(monkeypatch: pytest.MonkeyPatch, cls: type, method: str) -> None:
    """Make `cls.method` wait at a shared rendezvous before it runs."""
    original = getattr(cls, method)
    meet = Rendezvous()

    def held(*args: Any, **kwargs: Any) -> Any:
        meet()
        return original(*args, **kwargs)

    monkeypatch.setattr(cls, method, held)


def simultaneously(*requests: Callable[[], Any]) -> list[Any]:
    """Run each request in its own thread (so on its own connection); return their results in order."""
    results: list[Any] = [None] * len(requests)
    errors: list[BaseException] = []

    def run(index: int, request: Callable[[], Any]) -> None:
        try:
            results[index] = request()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


@pytest.fixture
def designation(separate_connections) -> models.Designation:
    return DesignationFactory(name_as_reported="", kind="new", source_kind="secondary")


@pytest.fixture
def token_key(separate_connections) -> str:
    user = User.objects.create_user("partner", password="x")
    user.user_permissions.set(Permission.objects.filter(codename__in=["change_designation", "view_designation"]))
    return models.ApiToken.issue(user, "editor", can_write=True)[1]


def patch(key: str, pk: int, changes: dict, **headers: str) -> Callable[[], Any]:
    def request() -> Any:
        return Client().patch(
            f"{API}/designations/{pk}/", changes, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}", **headers
        )

    return request


def test_two_simultaneous_api_patches_of_different_fields_both_survive(monkeypatch, designation, token_key):
    hold_before(monkeypatch, RecordViewSet, "perform_update")
    first, second = simultaneously(
        patch(token_key, designation.pk, {"is_old_revolutionary_base": True}, HTTP_X_CHANGE_REASON="evaluated"),
        patch(token_key, designation.pk, {"name_as_reported": "宣化"}, HTTP_X_CHANGE_REASON="name as in the notice"),
    )
    assert (first.status_code, second.status_code) == (200, 200)
    designation.refresh_from_db()
    assert (designation.is_old_revolutionary_base, designation.name_as_reported) == (True, "宣化")
    # History is true: the last entry is the record as it now is, and each entry has its reason.
    history = list(designation.history.order_by("history_date"))
    assert sorted(h.history_change_reason for h in history[-2:]) == ["evaluated", "name as in the notice"]
    assert (history[-1].is_old_revolutionary_base, history[-1].name_as_reported) == (True, "宣化")


def test_two_simultaneous_api_patches_with_the_same_etag_one_is_refused(monkeypatch, designation, token_key):
    etag = Client().get(f"{API}/designations/{designation.pk}/")["ETag"]
    hold_before(monkeypatch, RecordViewSet, "perform_update")
    first, second = simultaneously(
        patch(token_key, designation.pk, {"is_old_revolutionary_base": True}, HTTP_IF_MATCH=etag, HTTP_X_CHANGE_REASON="checked"),
        patch(
            token_key,
            designation.pk,
            {"is_old_revolutionary_base": False, "name_as_reported": "mine"},
            HTTP_IF_MATCH=etag,
            HTTP_X_CHANGE_REASON="checked",
        ),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    winner, loser = (first, second) if first.status_code == 200 else (second, first)
    assert loser.json()["error"]["code"] == "precondition_failed"
    designation.refresh_from_db()
    assert designation.is_old_revolutionary_base == winner.json()["is_old_revolutionary_base"]
    assert designation.name_as_reported == winner.json()["name_as_reported"]
    assert winner["ETag"] != etag


def test_two_simultaneous_admin_saves_of_the_same_version_one_is_refused(monkeypatch, designation):
    admin = User.objects.create_superuser("officer", password="x")
    opened = {
        "unit": designation.unit_id,
        "batch": designation.batch_id,
        "kind": "new",
        "is_old_revolutionary_base": "unknown",
        "name_as_reported": "",
        "source": designation.source,
        "source_kind": designation.source_kind,
        "source_note": "",
        "loaded_version": designation.updated_at.isoformat(),  # both opened the same version
    }
    url = reverse("admin:counties_designation_change", args=[designation.pk])

    def save(name: str, status: str) -> Callable[[], Any]:
        def request() -> Any:
            client = Client()
            client.force_login(admin)
            return client.post(
                url, opened | {"is_old_revolutionary_base": status, "name_as_reported": name, "change_reason": f"{name}'s check"}
            )

        return request

    hold_before(monkeypatch, RegistryAdmin, "save_model")
    first, second = simultaneously(save("first officer", "true"), save("second officer", "false"))
    assert sorted([first.status_code, second.status_code]) == [200, 302]
    winner, loser = ("first officer", second) if first.status_code == 302 else ("second officer", first)
    page = loser.content.decode()
    assert "Someone else saved this record" in page or "其他人" in page or "他人" in page
    assert 'value="{}"'.format("second officer" if winner == "first officer" else "first officer") in page  # input kept
    designation.refresh_from_db()
    assert designation.name_as_reported == winner
    assert [h.history_change_reason for h in designation.history.order_by("-history_date")[:1]] == [f"{winner}'s check"]


# -- an import confirmed twice at once, two imports of the same records at once ----------------------


def previewed_import(client: Client, model_name: str, content: str) -> dict[str, str]:
    """The confirmation's fields of a preview of `content` uploaded by `client`."""
    upload = io.BytesIO(content.encode("utf-8"))
    upload.name = "roster.csv"
    page = client.post(reverse(f"admin:counties_{model_name}_import"), {"import_file": upload, "format": "0", "resource": "0"})
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page.content.decode()))
    assert "import_file_name" in fields, page.content.decode()[:2000]
    return fields


def confirmation(client: Client, model_name: str, fields: dict[str, str]) -> Callable[[], Any]:
    def request() -> Any:
        return client.post(reverse(f"admin:counties_{model_name}_process_import"), {**fields, "reason": "商建函〔2030〕1号"})

    return request


def test_a_double_clicked_import_confirmation_writes_once(monkeypatch, separate_connections):
    """Funding records have no natural key: a second write would add every row again."""
    unit("990101", "甲县")
    officer = Client()
    officer.force_login(User.objects.create_superuser("officer", password="x"))
    fields = previewed_import(officer, "fundingallocation", FUNDING_FILE)
    again = Client()
    again.cookies = officer.cookies  # the same browser, the same session: a double click
    hold_before(monkeypatch, ImportExportRegistryAdmin, "process_dataset")
    first, second = simultaneously(confirmation(officer, "fundingallocation", fields), confirmation(again, "fundingallocation", fields))
    assert sorted([first.status_code, second.status_code]) == [200, 302]
    assert models.FundingAllocation.objects.filter(unit__code="990101").count() == 1
    record = models.ImportRecord.objects.get()
    answer = (first if first.status_code == 200 else second).content.decode()
    assert f"#import-{record.pk}" in answer


def test_two_imports_of_the_same_new_records_at_once_say_so_in_plain_words(monkeypatch, separate_connections):
    """Two officers preview the same new designation before either confirms: both previews say
    "new"; the database refuses the second write (a key written twice), and its officer is told
    in words, not PostgreSQL's."""
    unit("990101", "甲县")
    BatchFactory(year=2030, sequence=1)
    content = "code,batch_year,kind,source,source_kind\n990101,2030,new,商建函〔2030〕1号,official\n"
    clients = []
    for name in ("first", "second"):
        client = Client()
        client.force_login(User.objects.create_superuser(name, password="x"))
        clients.append((client, previewed_import(client, "designation", content)))
    hold_before(monkeypatch, programme, "write_records")
    answers = simultaneously(*(confirmation(client, "designation", fields) for client, fields in clients))
    assert sorted(answer.status_code for answer in answers) == [200, 302]
    refused = next(answer for answer in answers if answer.status_code == 200).content.decode()
    assert "另一次导入或编辑同时修改了这些记录；未写入任何内容；请重试" in refused
    assert "duplicate key" not in refused and "DETAIL" not in refused and "deadlock" not in refused
    assert models.Designation.objects.filter(unit__code="990101", batch__year=2030).count() == 1
    assert models.ImportRecord.objects.count() == 1
