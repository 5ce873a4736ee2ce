"""Files read on the admin's import page, kept in the database until their confirmation writes them, once.

Between the preview and the confirmation the file's bytes wait in a `KeptImport` row (the database
evicts nothing, and every instance reaches it), at most `IMPORT_MAX_BYTES` and for at most
`IMPORT_KEPT_HOURS`; older rows are removed whenever a new file is kept.

A kept file belongs to the staff member who uploaded it, in the session they uploaded it in (the
same person in another browser chooses the file again there). `confirm_once` locks its row, writes the
records and marks the row used with the import's record, all in one transaction, so:

* a double click (two confirmations at once): the second waits for the first's lock, then finds the
  file used and is told which import wrote it (`AlreadyImported`);
* a retry after a lost answer (the commit happened, the answer never arrived) or a replay: likewise;
* a worker killed before its commit: nothing was written or marked, so the retry writes it, once;
* a write the database or the rules refuse: nothing is written or marked, and the file can be
  confirmed again (after correcting the registry);
* a missing, expired, tampered, another person's or another session's key, or one naming another format or
  kind of record than was previewed: `PreviewGone`, and nothing is written.

The conditional UPDATE that marks the row used also refuses a second marking, so the rule holds on a
database without row locks (SQLite serialises its writers instead).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy
from import_export.tmp_storages import BaseStorage

from counties.models import ImportRecord, KeptImport
from counties.writes.imports import uploads
from counties.writes.services import locked

PREVIEW_GONE = gettext_lazy("This preview is no longer available: choose the file again.")


class PreviewGone(Exception):
    """No confirmable file under this key for this person: nothing is written."""

    def __init__(self) -> None:
        super().__init__(str(PREVIEW_GONE))


class AlreadyImported(Exception):
    """The kept file has been written already; `record` is the import that wrote it."""

    def __init__(self, record: ImportRecord | None) -> None:
        super().__init__("already imported")
        self.record = record


def oldest_kept() -> Any:
    """The moment before which a kept file has expired."""
    return timezone.now() - timedelta(hours=settings.IMPORT_KEPT_HOURS)


def keep(data: bytes) -> str:
    """Keep an uploaded file's bytes; returns its new key. Expired files go first."""
    uploads.check_size(data)
    KeptImport.objects.filter(created_at__lt=oldest_kept()).delete()
    key = secrets.token_hex(32)
    KeptImport.objects.create(key=key, data=data)
    return key


def session_digest(session_key: str | None) -> str:
    """What a kept file holds of the session it belongs to: a digest, so the table never holds a
    key that would let its reader sign in as the uploader. "" for no session (which matches none)."""
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""


def bind(key: str, *, user: Any, session_key: str | None, model: str, file_format: str, file_name: str) -> None:
    """Give a file just kept to the person who uploaded it and their session, with what it was
    previewed as. Until then it is nobody's, and nobody can confirm it."""
    KeptImport.objects.filter(key=key, user__isnull=True).update(
        user=user, session=session_digest(session_key), model=model, file_format=file_format, file_name=file_name[:255]
    )


def read(key: str) -> bytes | None:
    """The bytes of a file kept and not yet written, or None."""
    data = KeptImport.objects.filter(key=key, used_at__isnull=True, created_at__gte=oldest_kept()).values_list("data", flat=True).first()
    return None if data is None else bytes(data)


def forget(key: str) -> None:
    """Drop a file not yet written; a written one stays (until it expires) to answer a repeated confirmation."""
    KeptImport.objects.filter(key=key, used_at__isnull=True).delete()


def confirm_once(
    key: str, *, user: Any, session_key: str | None, model: str, file_format: str, write: Callable[[KeptImport], ImportRecord | None]
) -> ImportRecord | None:
    """Write the file kept under `key` by calling `write` with it, at most once.

    `write` returns the record of the import it wrote, or None when it wrote nothing (a refused
    row or write): the file then stays confirmable. Raises PreviewGone or AlreadyImported (see
    the module's docstring) without calling `write`.
    """
    with transaction.atomic():
        kept = locked(KeptImport.objects.filter(key=key)).first()
        if kept is None or kept.user_id is None or kept.user_id != getattr(user, "pk", None) or kept.model != model:
            raise PreviewGone
        if not kept.session or not hmac.compare_digest(kept.session, session_digest(session_key)):
            raise PreviewGone
        if kept.used_at is not None:
            raise AlreadyImported(ImportRecord.objects.filter(pk=kept.import_record_id).first())
        if kept.created_at < oldest_kept() or not file_format or kept.file_format != file_format:
            raise PreviewGone
        record = write(kept)
        if record is None:
            return None
        marked = KeptImport.objects.filter(pk=kept.pk, used_at__isnull=True).update(used_at=timezone.now(), import_record=record, data=b"")
        if not marked:  # written meanwhile by another confirmation: this one's write is rolled back
            raise AlreadyImported(KeptImport.objects.select_related("import_record").get(pk=kept.pk).import_record)
        return record


class DatabaseStorage(BaseStorage):
    """django-import-export's temporary storage for the admin's uploads (IMPORT_EXPORT_TMP_STORAGE_CLASS)."""

    def save(self, data: bytes | str) -> None:
        self.name = keep(data if isinstance(data, bytes) else data.encode(self.encoding or "utf-8"))

    def read(self) -> bytes | str:
        data = read(str(self.name or ""))
        if data is None:
            raise FileNotFoundError(str(PREVIEW_GONE))
        return data if "b" in self.read_mode else data.decode(self.encoding or "utf-8")

    def remove(self) -> None:
        forget(str(self.name or ""))
