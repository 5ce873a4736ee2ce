import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from counties.models import as_of_year
from counties.reads import statistics, tables
from counties.reads.statistics import targets

# The targets-and-results sections come from counties.reads.statistics.targets.
SECTIONS = ("coverage", "batches", "provinces", "funding", "exits", *targets.REPORT_SECTIONS)


def _plain(value: Any) -> Any:
    """Decimals as exact strings in JSON (never floats), None as null."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def report_rows(section: str, as_of: int) -> list[dict[str, Any]]:
    """One section of the report as a list of flat rows (the same numbers in every format)."""
    if section in targets.REPORT_SECTIONS:
        return targets.report_rows(section, as_of)
    if section == "coverage":
        return [statistics.coverage(as_of).as_dict()]
    if section == "batches":
        return [b.as_dict() for b in statistics.batch_composition()]
    if section == "provinces":
        return [p.as_dict() for p in statistics.province_table(as_of)]
    if section == "funding":
        totals = statistics.funding_totals()
        return [
            {"group": group, **row.as_dict()}
            for group, rows in (
                ("fiscal_year", totals.by_year),
                ("province", totals.by_province),
                ("level", totals.by_level),
                ("source_kind", totals.by_source_kind),
            )
            for row in rows
        ]
    return [e.as_dict() for e in statistics.exits()]


class Command(BaseCommand):
    help = "Print the coverage statistics: the same numbers as the statistics pages and the API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=int, help="Year-end to report (default: the latest year with a batch).")
        parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
        parser.add_argument(
            "--section", choices=(*SECTIONS, "all"), default="all", help="Which statistic (csv needs a single one; default: all)."
        )

    def handle(self, *args: object, **options: Any) -> None:
        output, section = options["format"], options["section"]
        try:
            as_of = as_of_year(options["as_of"], statistics.latest_batch_year())
        except ValidationError as error:
            raise CommandError(f"--as-of: {' '.join(error.messages)}") from None
        sections = SECTIONS if section == "all" else (section,)
        if output == "csv" and len(sections) > 1:
            raise CommandError("--format csv prints one table: choose it with --section " + "|".join(SECTIONS))

        report = {name: report_rows(name, as_of) for name in sections}
        if output == "json":
            single = {"coverage", "three_coverages"}  # one row each: an object, not a list
            payload = {"as_of": as_of, **{name: rows[0] if name in single else rows for name, rows in report.items()}}
            self.stdout.write(json.dumps(_plain(payload), ensure_ascii=False, indent=2))
        elif output == "csv":
            rows = report[sections[0]]
            if rows:
                # The registry's table writer (formula-neutralised cells); no BOM on a terminal or a pipe.
                header = list(rows[0])
                self.stdout.write(tables.csv_text(header, ([row[c] for c in header] for row in rows), bom=False), ending="")
        else:
            for name, rows in report.items():
                self.stdout.write(f"\n{name} (as of {as_of})" if name in {"coverage", "provinces", "three_coverages"} else f"\n{name}")
                self._table(rows)

    def _table(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            self.stdout.write("  (none)")
            return
        columns = list(rows[0])
        cells = [[str(tables.text(row[c], missing="—")) for c in columns] for row in rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        self.stdout.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        for r in cells:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
