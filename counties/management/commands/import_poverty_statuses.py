from ._import import ImportCommand


class Command(ImportCommand):
    help = "Import poverty statuses from a CSV or XLSX file (the admin's format and validation). --dry-run writes nothing."
    kind = "poverty"
