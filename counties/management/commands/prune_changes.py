"""Remove the change feed's changes older than CHANGE_FEED_KEPT_DAYS (or --days)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from counties.writes import feed


class Command(BaseCommand):
    help = "Delete the change feed's changes older than CHANGE_FEED_KEPT_DAYS days; older cursors are then answered 410 Gone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Keep this many days instead of CHANGE_FEED_KEPT_DAYS.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = settings.CHANGE_FEED_KEPT_DAYS if options["days"] is None else options["days"]
        if days < 1:
            raise CommandError(f"--days must be a positive number of days, got {days}")
        deleted = feed.prune(days)
        self.stdout.write(f"{deleted} change(s) older than {days} day(s) deleted")
