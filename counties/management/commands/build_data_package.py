"""manage.py build_data_package [--watch SECONDS] [--keep K] [--chunk-size N]"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from counties.reads.data_package import build


class Command(BaseCommand):
    help = (
        "Build the data package (/data/) of the current data version into DATA_PACKAGE_DIR, unless it is built "
        "already (then nothing is written), and keep the DATA_PACKAGE_KEEP newest versions. With --watch, check "
        "the data version every SECONDS seconds and build each new one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--watch", type=float, metavar="SECONDS", help="Keep running: check the data version this often.")
        parser.add_argument("--keep", type=int, help="Versions to keep (default: DATA_PACKAGE_KEEP).")
        parser.add_argument("--chunk-size", type=int, default=build.CHUNK_SIZE, help="Rows read and written at a time.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["keep"] is not None and options["keep"] < 1:
            raise CommandError("--keep must be 1 or more.")
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be 1 or more.")
        if options["watch"] is None:
            self.build_once(options)
            return
        if options["watch"] <= 0:
            raise CommandError("--watch must be a positive number of seconds.")
        while True:
            try:
                self.build_once(options)
            except DatabaseError as exc:  # the database is away for a moment: try again at the next check
                self.stderr.write(f"The database did not answer ({exc}); trying again in {options['watch']:g} s.")
            close_old_connections()
            time.sleep(options["watch"])

    def build_once(self, options: dict[str, Any]) -> None:
        built = build.build(chunk_size=options["chunk_size"], keep=options["keep"])
        version = built.version
        if not built.wrote:
            if options["verbosity"] > 1 or options["watch"] is None:
                self.stdout.write(f"Nothing to build: data version {version.name} is built.")
            return
        rows = sum(table.rows for table in version.tables)
        self.stdout.write(
            f"Built data version {version.name}: {len(version.tables)} tables, {rows} rows; "
            + ", ".join(f"{f.name} ({f.bytes} bytes, sha256 {f.sha256})" for f in version.files[:2])
        )
        for name in built.pruned:
            self.stdout.write(f"Removed the older version {name}.")
