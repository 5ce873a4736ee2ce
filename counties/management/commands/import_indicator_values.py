from counties.writes.imports.targets import IndicatorValueResource

from ._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Import indicator values (long format: code, year, indicator, value, source, source_kind, source_note) "
        "from a CSV or XLSX file, with the admin's validation. --dry-run writes nothing."
    )
    kind = "indicator_values"
    resource_class = IndicatorValueResource
