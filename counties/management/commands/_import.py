"""The command-line side of the imports: the admin's resources, the same validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tablib
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from counties.imports import RESOURCES
from counties.services import WriteSummary


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


def describe_summary(summary: WriteSummary, dry_run: bool) -> list[str]:
    """What was (or would be) created, changed and removed, per batch or year and province."""
    verb = "would be" if dry_run else "were"
    lines = [
        f"{summary.created} created, {summary.changed} changed, {summary.unchanged} unchanged, "
        f"{summary.removed} illustrative designations removed ({summary.removed_funding} funding records with them) {verb} written."
    ]
    if summary.cells:
        lines.append("Per batch (or fiscal year) and province:")
        lines += summary.lines()
    return lines


class ImportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A .csv (UTF-8) or .xlsx file in the documented format.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report what would change; write nothing.")
        parser.add_argument("--user", help="Username recorded in the change history (and held to its province, if any).")
        parser.add_argument("--reason", default="", help="Reason recorded in the change history (default: the file's name).")

    def handle(self, *args: object, **options: Any) -> None:
        dataset = load_dataset(options["file"])
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")
        reason = options["reason"] or f"imported from {options['file'].name}"[:100]
        if len(reason) > 100:
            raise CommandError(f"--reason is {len(reason)} characters long; history keeps at most 100")
        # The same resource and service as the admin: every row is validated first (nothing is
        # written), then the whole file is written in one transaction, unless this is a dry run.
        resource = RESOURCES[self.kind](user=user, reason=reason)
        result = resource.import_data(dataset, dry_run=options["dry_run"], raise_errors=False)
        if result.has_errors() or result.has_validation_errors():
            raise CommandError("nothing was imported:\n" + "\n".join(describe_errors(result)))
        self.stdout.write(f"{len(dataset)} rows read.")
        for line in describe_summary(result.summary, options["dry_run"]):
            self.stdout.write(line)
