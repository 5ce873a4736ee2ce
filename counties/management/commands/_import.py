"""The command-line side of the imports: the admin's resources, the same validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tablib
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Model

from counties import uploads
from counties.imports import RESOURCES


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


def describe_errors(result: Any) -> list[str]:
    lines = [f"file: {error.error}" for error in result.base_errors]
    for row in result.invalid_rows:
        for field, messages in row.field_specific_errors.items():
            lines.append(f"row {row.number}: {field}: {' '.join(str(m) for m in messages)}")
        for message in row.non_field_specific_errors:
            lines.append(f"row {row.number}: {message}")
    for number, errors in result.row_errors():
        for error in errors:
            lines.append(f"row {number}: {error.error}")
    return lines


# django-simple-history's change-reason column (the admin's deletion reason has the same limit).
REASON_MAX_LENGTH = 100


class ImportCommand(BaseCommand):
    kind = ""
    resource_class: type | None = None  # a resource not in counties.imports.RESOURCES (the targets' imports)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A .csv (UTF-8) or .xlsx file in the documented format.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report, write nothing.")
        parser.add_argument("--user", help="Username recorded in the change history (and held to its province, if any).")
        parser.add_argument("--reason", default="", help="Reason recorded in the change history.")

    def handle(self, *args: object, **options: Any) -> None:
        resource_class = self.resource_class or RESOURCES[self.kind]
        for option in ("user", "reason"):
            if "\x00" in (options[option] or ""):
                raise CommandError(f"--{option} contains a NUL character")
        if len(options["reason"]) > REASON_MAX_LENGTH:
            raise CommandError(f"--reason is {len(options['reason'])} characters long; the history keeps at most {REASON_MAX_LENGTH}")
        dataset = load_dataset(options["file"])
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")
            check_user_may_import(user, resource_class._meta.model)
        reason = options["reason"] or f"imported from {options['file'].name}"
        resource = resource_class(user=user, reason=reason)
        # Validate everything first (nothing is written), then import for real in one transaction.
        result = resource.import_data(dataset, dry_run=True, raise_errors=False, use_transactions=True)
        if result.has_errors() or result.has_validation_errors():
            lines = describe_errors(result)
            raise CommandError("nothing was imported:\n" + "\n".join(lines))
        if not options["dry_run"]:
            resource = resource_class(user=user, reason=reason)
            result = resource.import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
        totals = result.totals
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{len(dataset)} rows: {totals['new']} new, {totals['update']} changed, {totals['skip']} unchanged {verb} imported."
        )
        replaced = getattr(result, "replaced_illustrative", 0)
        if replaced:
            self.stdout.write(f"{replaced} illustrative designations of the same batches {verb} replaced.")
