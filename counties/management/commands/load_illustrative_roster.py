from django.core.management.base import BaseCommand, CommandError, CommandParser

from counties.writes.roster import RosterError, load_illustrative_roster, remove_illustrative_roster, roster_present


class Command(BaseCommand):
    help = (
        "Build the illustrative roster: invented designations, marked illustrative, that reproduce the "
        "published batch figures around the designations known from real sources. Deterministic and "
        "idempotent; never changes, removes or recreates a record staff changed or deleted since it wrote "
        "it (it names them); never fills a batch and province that holds official records. --remove deletes "
        "every illustrative record again (with a history entry for each)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--remove", action="store_true", help="Delete the illustrative roster instead of building it.")
        parser.add_argument(
            "--if-absent",
            action="store_true",
            help="Build the roster only when the registry holds no illustrative designation (what a container start does).",
        )

    def handle(self, *args: object, remove: bool = False, if_absent: bool = False, **options: object) -> None:
        if remove:
            try:
                removed = remove_illustrative_roster()
            except RosterError as exc:
                raise CommandError(f"Illustrative roster not removed, nothing was written. {exc}") from exc
            self.stdout.write(f"Removed {removed} illustrative designations and their illustrative funding records.")
            return
        if if_absent and roster_present():
            self.stdout.write(
                "The illustrative roster is already loaded: left as it is (run load_illustrative_roster without --if-absent "
                "to bring it up to date)."
            )
            return
        try:
            report = load_illustrative_roster()
        except RosterError as exc:
            raise CommandError(f"Illustrative roster not loaded, nothing was written. {exc}") from exc
        if report.restated:
            self.stdout.write(f"Illustrative roster: the source of {report.restated} records reworded.")
        if report.created or report.updated or report.removed or report.funding_created:
            self.stdout.write(
                f"Illustrative roster: {report.created} designations created, {report.updated} changed, {report.removed} removed; "
                f"{report.funding_created} funding records created."
            )
        elif not report.restated:
            self.stdout.write("Nothing changed: the illustrative roster is already in place.")
        if report.kept:
            self.stdout.write(
                f"Kept {len(report.kept)} change(s) made in the registry since the roster wrote the records "
                "(the roster leaves them as they are):"
            )
            for line in report.kept:
                self.stdout.write(f"  {line}")
        if report.departures:
            self.stdout.write(
                "Official records or kept changes depart from the roster in some batches and provinces, so these published "
                "figures are no longer reproduced: " + "; ".join(report.departures)
            )
