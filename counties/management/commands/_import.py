"""The command-line side of the imports: the admin's resources, the same validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tablib
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from counties.imports import RESOURCES


def load_dataset(path: Path) -> tablib.Dataset:
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return tablib.Dataset().load(path.read_bytes(), format="xlsx")
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); save the CSV as UTF-8, or use XLSX") from None
        return tablib.Dataset().load(text, format="csv")
    raise CommandError(f"{path}: use a .csv (UTF-8) or .xlsx file")


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


class ImportCommand(BaseCommand):
    kind = ""
    resource_class: type | None = None  # a resource not in counties.imports.RESOURCES (the targets' imports)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A .csv (UTF-8) or .xlsx file in the documented format.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report, write nothing.")
        parser.add_argument("--user", help="Username recorded in the change history (and held to its province, if any).")
        parser.add_argument("--reason", default="", help="Reason recorded in the change history.")

    def handle(self, *args: object, **options: Any) -> None:
        dataset = load_dataset(options["file"])
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")
        reason = options["reason"] or f"imported from {options['file'].name}"
        resource = (self.resource_class or RESOURCES[self.kind])(user=user, reason=reason)
        # Validate everything first (nothing is written), then import for real in one transaction.
        result = resource.import_data(dataset, dry_run=True, raise_errors=False, use_transactions=True)
        if result.has_errors() or result.has_validation_errors():
            lines = describe_errors(result)
            raise CommandError("nothing was imported:\n" + "\n".join(lines))
        if not options["dry_run"]:
            resource = (self.resource_class or RESOURCES[self.kind])(user=user, reason=reason)
            result = resource.import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
        totals = result.totals
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{len(dataset)} rows: {totals['new']} new, {totals['update']} changed, {totals['skip']} unchanged {verb} imported."
        )
        replaced = getattr(result, "replaced_illustrative", 0)
        if replaced:
            self.stdout.write(f"{replaced} illustrative designations of the same batches {verb} replaced.")
