from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from counties.writes.reference_data import ReferenceDataError, load_reference_data


class Command(BaseCommand):
    help = (
        "Load the reference data (county-level codes 2014-2020, carried on to 2024 from the code history, "
        "and their succession, the list of the 832 poverty counties and their statuses, batches, designations named in "
        "public sources, programme figures). Idempotent: "
        "a second run changes nothing. A bad file stops the load before anything is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="Folder holding the reference CSV files (default: settings.REFERENCE_DATA_DIR).",
        )

    def handle(self, *args: object, data_dir: Path | None = None, **options: object) -> None:
        directory = data_dir or settings.REFERENCE_DATA_DIR
        try:
            report = load_reference_data(directory)
        except ReferenceDataError as exc:
            raise CommandError(f"Reference data not loaded, nothing was written. {exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
