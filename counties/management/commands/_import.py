"""The command-line side of the imports: the admin's resources, the same validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tablib
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Model

from counties.models import CHANGE_REASON_MAX_LENGTH, CONTROL_CHARACTERS, Designation, FundingAllocation
from counties.writes.imports import uploads
from counties.writes.imports.programme import RESOURCES, RegistryResource
from counties.writes.services import ReasonRefused, WriteSummary, check_reason


def load_dataset(path: Path) -> tablib.Dataset:
    """The file, read with the admin's checks (formats, size, rows, zip bombs)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in uploads.FORMATS:
        raise CommandError(f"{path}: use a .csv (UTF-8) or .xlsx file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror or 'cannot be read'}") from None
    try:
        return uploads.read_table(suffix, data)
    except uploads.UploadRejected as exc:
        raise CommandError(f"{path}: {' '.join(exc.messages)}") from None


def check_user_may_import(user: Any, model: type[Model]) -> None:
    """The user named by --user must be allowed to import this kind of record in the admin:
    an active staff account with the add and change permissions on the model (the admin's import
    asks for `add`; the rows it changes need `change`). Its province is held to by the rows."""
    opts = model._meta
    needed = [f"{opts.app_label}.{get_permission_codename(action, opts)}" for action in ("add", "change")]
    missing = [perm for perm in needed if not user.has_perm(perm)]
    if not user.is_active or not user.is_staff:
        raise CommandError(f"user {user.get_username()!r} is not an active staff account and may not import")
    if missing:
        raise CommandError(f"user {user.get_username()!r} may not import {opts.verbose_name_plural}: lacks {', '.join(missing)}")


def describe_errors(result: Any, columns: dict[str, str] | None = None) -> list[str]:
    """The file's errors, then each row's in the order of the rows, each under the file's column:
    `columns` maps an error's key (the record's attribute, `unit`) to the column (`code`), as the
    admin's preview puts it under the column's label."""
    columns = columns or {}
    rows: list[tuple[int, str]] = []
    for row in result.invalid_rows:
        for field, messages in row.field_specific_errors.items():
            rows.append((row.number, f"row {row.number}: {columns.get(field, field)}: {' '.join(str(m) for m in messages)}"))
        for message in row.non_field_specific_errors:
            rows.append((row.number, f"row {row.number}: {message}"))
    for number, errors in result.row_errors():
        rows.extend((number, f"row {number}: {error.error}") for error in errors)
    return [f"file: {error.error}" for error in result.base_errors] + [line for _number, line in sorted(rows, key=lambda item: item[0])]


def describe_summary(summary: WriteSummary, dry_run: bool, model: type[Model] = Designation) -> list[str]:
    """What was (or would be) created, changed and removed, per batch or year and province; the
    replacement of illustrative records is named for designations only, the one model it touches."""
    if not summary.writes_anything:
        return [f"Nothing to change: all {summary.unchanged} records of the file match the registry already."]
    verb = "would be" if dry_run else "were"
    counts = [f"{summary.created} created", f"{summary.changed} changed", f"{summary.unchanged} unchanged"]
    if model is Designation:
        counts.append(f"{summary.removed} illustrative designations removed ({summary.removed_funding} funding records with them)")
    lines = [f"{', '.join(counts)} {verb} written."]
    if summary.cells:
        period = "batch" if model is Designation else "fiscal year" if model is FundingAllocation else "year"
        lines.append(f"Per {period} and province:")
        replaces = model is Designation
        lines += [
            f"  {when} {province}: {c.created} created, {c.changed} changed" + (f", {c.removed} removed" if replaces else "")
            for when, province, c in summary.rows()
        ]
    if summary.removals:
        lines.append("Illustrative designations removed:" if not dry_run else "Illustrative designations it would remove:")
        lines += [f"  {r.record}" + (f" -- edited by hand: {r.edited}" if r.edited else "") for r in summary.removals]
    return lines


def reason_refusal(exc: ReasonRefused) -> str:
    """The services' refusal of a reason, as the command line names its option."""
    params = exc.params or {}
    if exc.code == "reason_too_long":
        return f"--reason is {params['length']} characters long; the history keeps at most {params['limit']}"
    if exc.code == "control_character":
        return f"--reason contains the control character {params['character']}"
    return f"--reason: {' '.join(exc.messages)}"


class ImportCommand(BaseCommand):
    kind = ""
    # A resource not in counties.writes.imports.programme.RESOURCES (the targets' imports).
    resource_class: type[RegistryResource] | None = None

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A .csv (UTF-8) or .xlsx file in the documented format.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report what would change; write nothing.")
        parser.add_argument("--user", help="Username recorded in the change history (and held to its province, if any).")
        parser.add_argument("--reason", default="", help="Reason recorded in the change history (default: the file's name).")

    def handle(self, *args: object, **options: Any) -> None:
        resource_class = self.resource_class or RESOURCES[self.kind]
        if "\x00" in (options["user"] or ""):
            raise CommandError("--user contains a NUL character")
        if found := CONTROL_CHARACTERS.search(options["user"] or ""):
            raise CommandError(f"--user contains the control character U+{ord(found.group()):04X}")
        if options["reason"]:
            # The services' rule, asked before the file is read; the write asks it again.
            try:
                check_reason(options["reason"])
            except ReasonRefused as exc:
                raise CommandError(reason_refusal(exc)) from None
        dataset = load_dataset(options["file"])
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")
            check_user_may_import(user, resource_class._meta.model)
        reason = options["reason"] or f"imported from {options['file'].name}"[:CHANGE_REASON_MAX_LENGTH]
        # The same resource and service as the admin: every row is validated first (nothing is
        # written), then the whole file is written in one transaction, unless this is a dry run.
        resource = resource_class(user=user, reason=reason)
        result = resource.import_data(dataset, dry_run=options["dry_run"], raise_errors=False, file_name=options["file"].name)
        if result.has_errors() or result.has_validation_errors():
            raise CommandError("nothing was imported:\n" + "\n".join(describe_errors(result, resource.error_columns())))
        self.stdout.write(f"{len(dataset)} rows read.")
        for line in describe_summary(result.summary, options["dry_run"], resource_class._meta.model):
            self.stdout.write(line)
