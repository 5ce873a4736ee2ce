from django.core.management.base import BaseCommand, CommandError, CommandParser

from counties.writes.roster import RosterError, load_illustrative_roster, remove_illustrative_roster


class Command(BaseCommand):
    help = (
        "Build the illustrative roster: invented designations, marked illustrative, that reproduce the "
        "published batch figures around the designations known from real sources. Deterministic and "
        "idempotent; never fills a batch and province that holds official records. --remove deletes "
        "every illustrative record again (with a history entry for each)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--remove", action="store_true", help="Delete the illustrative roster instead of building it.")

    def handle(self, *args: object, remove: bool = False, **options: object) -> None:
        if remove:
            try:
                removed = remove_illustrative_roster()
            except RosterError as exc:
                raise CommandError(f"Illustrative roster not removed, nothing was written. {exc}") from exc
            self.stdout.write(f"Removed {removed} illustrative designations and their illustrative funding records.")
            return
        try:
            report = load_illustrative_roster()
        except RosterError as exc:
            raise CommandError(f"Illustrative roster not loaded, nothing was written. {exc}") from exc
        if report.restated:
            self.stdout.write(f"Illustrative roster: the source of {report.restated} records reworded.")
        if report.created or report.removed:
            self.stdout.write(
                f"Illustrative roster: {report.created} designations created ({report.removed} older illustrative ones replaced)."
            )
        elif not report.restated:
            self.stdout.write("Nothing changed: the illustrative roster is already in place.")
        if report.departures:
            self.stdout.write(
                "Official records replace the roster in some batches and provinces, so these published figures are no longer "
                "reproduced: " + "; ".join(report.departures)
            )
