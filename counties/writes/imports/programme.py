"""Import and export of designations, funding allocations and poverty statuses (django-import-export).

The same resources serve the admin (preview, then confirm) and the `import_*` commands, so a file
is judged the same way through either door. Every row is validated before anything is written;
a file with any error writes nothing. The checks, each reported on its row:

* an unknown column header (and a missing required one);
* an unknown code, or a code retired by the year of the record, with its successor suggested;
* the same record twice in the file;
* a batch that does not exist;
* a malformed or negative amount, a year out of range, an unknown choice;
* an XLSX cell of a kind its column cannot read (a date where a year is expected), named (`read_cell`);
* a code not in use in the record's year (the rule of `models.code_not_in_use_error`), with the
  right code suggested;
* a record of another province (as stored or as imported), for a provincial editor; a provincial
  editor without a province imports nothing;
* the template's instruction row, left in the file.

Validation writes nothing: the rows are checked against lookups loaded once per import, and the
valid records are then written in bulk by `services.write_records`, which applies the replacement
rule (official designations of a batch and province replace that cell's illustrative records) and
records every creation, change and removal in history with the import's reason. A dry run, and the
admin's preview, stop after validation and report what the write would create, change and remove.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, OperationalError
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.results import Error

from counties.models import (
    FIRST_PROGRAMME_YEAR,
    LAST_PLAUSIBLE_YEAR,
    Batch,
    Designation,
    DesignationKind,
    FundingAllocation,
    FundingLevel,
    PovertyStatus,
    ProgrammeLevel,
    Region,
    SourceKind,
    Unit,
)
from counties.models.programme import IMPORTED_REASON
from counties.reads import tables
from counties.reads.permissions import NO_PROVINCE, record_province_id, write_scope
from counties.writes.imports import uploads
from counties.writes.services import (
    PovertyCountiesRefused,
    ReplacementBlocked,
    WriteSummary,
    preview_write,
    write_records,
)

# The most rows the admin imports in one request: its preview and its commit each finish in a few
# seconds at this size (see bench/import_bench.py), well inside the server's 60 s request timeout.
# Larger files go through the import_* commands, which have no limit.
ADMIN_MAX_ROWS = 5000

# The template's instruction row starts with this; a file that still holds it is refused.
INSTRUCTION_MARK = "#"


# Labels of the columns that are not a model field of their own (the rest take the field's verbose name).
COLUMN_LABELS = {
    "code": gettext_lazy("unit code"),
    "batch_year": gettext_lazy("batch year"),
    "batch_sequence": gettext_lazy("batch of the year"),
    "id": gettext_lazy("record id"),
}

# What the preview calls each row's status.
ROW_STATUS = {
    "new": gettext_lazy("New"),
    "update": gettext_lazy("Update"),
    "skip": gettext_lazy("Unchanged (skipped)"),
    "delete": gettext_lazy("Delete"),
    "error": gettext_lazy("Error"),
}


@dataclass
class PreviewRow:
    number: int
    status: str  # new, update, skip, error
    cells: list[Any]  # the diff (HTML) of a valid row, the file's values of a row in error
    errors: list[tuple[str, list[str]]]
    diff: bool

    @property
    def status_label(self) -> str:
        return str(ROW_STATUS.get(self.status, self.status))


@dataclass
class Preview:
    columns: list[tuple[str, str]]
    rows: list[PreviewRow] = field(default_factory=list)

    def counts(self) -> list[tuple[str, str, int]]:
        """(status, label, rows) for each status present, in ROW_STATUS's order."""
        found = [(status, str(label), sum(1 for row in self.rows if row.status == status)) for status, label in ROW_STATUS.items()]
        return [item for item in found if item[2]]


# How much of a cell the preview shows: the unchanged text on either side of a change, and the text
# removed and added (or a whole value). What is cut is marked "…", and the cell keeps the whole
# value, before and after, in a closed "full text" box.
CHANGE_CONTEXT = 30
SHOWN_LENGTH = 120


def _common_prefix(a: str, b: str) -> int:
    """The length of the text `a` and `b` start with, in O(log n) comparisons of slices."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[-middle:] == b[-middle:]:
            low = middle
        else:
            high = middle - 1
    return low


def change_html(old: str, new: str, full_text: str = "") -> SafeString:
    """A cell of the preview: `new` with what differs from `old` marked as one removed and one added
    span, between the unchanged text around them (cut to CHANGE_CONTEXT characters).

    The change is found from the common start and end of the two values, in time linear in their
    length: a character diff (import-export's own) takes time growing with the product of the
    lengths of what changed, so a file at the admin's limits that rewrites long values would
    outlast the request. Several edits in one value show as one span from the first to the last.
    `full_text` labels the box with the whole values (the caller translates it once per row)."""
    escape = html.escape
    if old == new and len(new) <= SHOWN_LENGTH:
        return mark_safe(escape(new))  # escaped
    start = _common_prefix(old, new)
    end = _common_suffix(old[start:], new[start:])
    head, tail = new[:start], new[len(new) - end :]
    removed, added = old[start : len(old) - end], new[start : len(new) - end]
    cut = False
    parts = []
    if len(head) > CHANGE_CONTEXT:
        head, cut = "…" + head[-CHANGE_CONTEXT:], True
    parts.append(escape(head))
    for tag, text in (("del", removed), ("ins", added)):
        if text:
            if len(text) > SHOWN_LENGTH:
                text, cut = text[:SHOWN_LENGTH] + "…", True
            parts.append(f"<{tag}>{escape(text)}</{tag}>")
    if len(tail) > CHANGE_CONTEXT:
        tail, cut = tail[:CHANGE_CONTEXT] + "…", True
    parts.append(escape(tail))
    if cut:
        whole = f"<del>{escape(old)}</del> <ins>{escape(new)}</ins>" if old != new else escape(new)
        parts.append(f'<details class="import-full-value"><summary>{escape(full_text or _("full text"))}</summary>{whole}</details>')
    return mark_safe("".join(parts))  # every piece of text in it was escaped above


class ImportRefused(Exception):
    """The file as a whole cannot be imported (its columns, its size, the account); nothing was written."""


logger = logging.getLogger(__name__)

# What a writer is told when the database refuses the write because another transaction wrote the
# same records meanwhile (a deadlock, a lock timeout, a key written twice); its own words are
# PostgreSQL's, for the log.
CONCURRENT_WRITE = gettext_lazy("another import or edit changed these records at the same time; nothing was written; try again")


class Lookups:
    """What a file's rows refer to, loaded once per import (and never kept between imports, so one
    import cannot see another's state): units by key, batches by (year, sequence)."""

    def __init__(self) -> None:
        self.units = {u.key: u for u in Unit.objects.select_related("province", "current")}
        # A file's batch_year names a national batch: provincial batches are recorded in the admin.
        self.batches = {(b.year, b.sequence): b for b in Batch.objects.filter(level=ProgrammeLevel.NATIONAL)}


# -- what a cell holds ------------------------------------------------------------------------
# A CSV cell is text; an XLSX cell has a type (see `uploads`). Every column reads text and numbers;
# anything else is refused with words for what the cell holds and what the column expects, never
# turned into text no one typed (a date as "2016-05-01 00:00:00", an error value as "#REF!") nor
# left to fail with Python's own message on the whole row.


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02}:{seconds % 60:02}"  # as a spreadsheet shows [h]:mm:ss


def found_in_cell(value: Any) -> str:
    """What a cell that is neither empty, text nor a number holds, in words, with its value as a
    spreadsheet shows it."""
    if isinstance(value, bool):
        return _("a true/false value (%(value)s)") % {"value": "TRUE" if value else "FALSE"}
    if isinstance(value, datetime):
        if value.time() == time():
            return _("a date (%(value)s)") % {"value": value.date().isoformat()}
        return _("a date and time (%(value)s)") % {"value": value.isoformat(sep=" ", timespec="seconds")}
    if isinstance(value, date):
        return _("a date (%(value)s)") % {"value": value.isoformat()}
    if isinstance(value, time):
        return _("a time of day (%(value)s)") % {"value": value.isoformat(timespec="seconds")}
    if isinstance(value, timedelta):
        return _("a duration (%(value)s)") % {"value": _duration(value)}
    if isinstance(value, uploads.ErrorValue):
        return _("the error value %(value)s") % {"value": value}
    return str(value)


def read_cell(value: Any, expected: str) -> str | int | float | Decimal | None:
    """The cell's value if it is empty, text or a number; else a ValueError (the column's error)
    saying what the cell holds where `expected` (e.g. "a year") is expected."""
    if value is None or isinstance(value, str | Decimal) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, uploads.UnsavedFormula):
        raise ValueError(
            _(
                "the cell holds a formula (%(formula)s) with no saved value: open the file in Excel, WPS or LibreOffice and "
                "save it there, so that the values of its formulas are saved too (or type the value itself)"
            )
            % {"formula": value}
        )
    raise ValueError(_("%(found)s where %(expected)s is expected") % {"found": found_in_cell(value), "expected": expected})


class ColumnError(ValueError):
    """A field's error about another of the file's columns than its own."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


class TextWidget(widgets.Widget):
    """A text column: text without the spaces around it, or a number as the text it shows (2019, not
    2019.0); empty is "" (the model's text fields are never NULL). A date is refused, not written
    out: in a document number or a name it is more likely the spreadsheet's reading of what was
    typed ("2019-1") than the text."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str:
        value = read_cell(value, _("text"))
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        # Spaces around a cell's text are a spreadsheet's leftovers, never part of a source or a name.
        return str(value).strip()


class UnitCodeWidget(widgets.ForeignKeyWidget):
    """A unit by its code (or registry key); an unknown code is an error naming it."""

    def __init__(self) -> None:
        super().__init__(Unit, field="key")

    def clean(self, value: Any, row: dict | None = None, lookups: Lookups | None = None, **kwargs: Any) -> Unit:
        code = str(read_cell(value, _("a code")) or "").strip()
        if code.endswith(".0"):  # a code typed into a spreadsheet number cell
            code = code[:-2]
        if not code:
            raise ValueError(_("the code is empty"))
        if lookups is not None:
            unit = lookups.units.get(code)
        else:
            unit = Unit.objects.select_related("current", "province").filter(key=code).first()
        if unit is None:
            raise ValueError(_("unknown code %(code)s") % {"code": code})
        return unit

    def render(self, value: Unit | None, obj: Any = None, **kwargs: Any) -> str:
        return value.key if value else ""


def year_in_range(year: int, low: int = FIRST_PROGRAMME_YEAR) -> int:
    """`year` if it lies from `low` (by default the programme's first year) to the last plausible
    year; else the row's error, in the words every import uses."""
    if not low <= year <= LAST_PLAUSIBLE_YEAR:
        raise ValueError(
            _("the year %(year)s is out of range (%(low)s–%(high)s)") % {"year": year, "low": low, "high": LAST_PLAUSIBLE_YEAR}
        )
    return year


class YearWidget(widgets.IntegerWidget):
    """A year of the programme (`year_in_range`). With `range_from_model`, any year: the model field's
    own validator judges its range, so the row's error is the message the admin and the API give
    for that field (a poverty county's exit year, 2016–2020)."""

    def __init__(self, *, range_from_model: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.range_from_model = range_from_model

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> int | None:
        value = read_cell(value, _("a year"))
        try:
            year = super().clean(value, row, **kwargs)
            # IntegerWidget truncates: 2019.5 would be 2019 (2019.0, a spreadsheet's number, is 2019).
            if year is not None and Decimal(str(value).strip()) != year:
                raise ValueError
        except (ValueError, InvalidOperation, OverflowError):  # OverflowError: "inf", which int() cannot take
            raise ValueError(_("%(value)s is not a year") % {"value": value}) from None
        return year if year is None or self.range_from_model else year_in_range(year)


class AmountWidget(widgets.DecimalWidget):
    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Decimal | None:
        value = read_cell(value, _("an amount in yuan"))
        text = str(value if value is not None else "").replace(",", "").replace("，", "").strip()
        if not text:
            raise ValueError(_("the amount is empty"))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("%(value)s is not an amount in yuan") % {"value": value}) from None
        if not amount.is_finite():
            raise ValueError(_("%(value)s is not an amount in yuan") % {"value": value})
        if amount < 0:
            raise ValueError(_("the amount %(value)s is negative") % {"value": value})
        return amount


class ChoiceWidget(widgets.Widget):
    """One of the field's values, in any case ("Official", "OFFICIAL"), stored as the field spells it."""

    def __init__(self, choices: list[tuple[str, Any]], default: str | None = None) -> None:
        self.choices = [value for value, _label in choices]
        self.by_folded = {value.casefold(): value for value in self.choices}
        self.default = default

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str:
        text = str(read_cell(value, _("one of %(choices)s") % {"choices": ", ".join(self.choices)}) or "").strip()
        if not text and self.default is not None:
            return self.default
        choice = self.by_folded.get(text.casefold())
        if choice is None:
            raise ValueError(_("%(value)s is not one of %(choices)s") % {"value": text or _("(empty)"), "choices": ", ".join(self.choices)})
        return choice


class OptionalBooleanWidget(widgets.BooleanWidget):
    """1/0, true/false, yes/no, 是/否; empty means not determined."""

    TRUE = {"1", "true", "yes", "y", "是"}
    FALSE = {"0", "false", "no", "n", "否"}

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> bool | None:
        if isinstance(value, bool):  # a spreadsheet's TRUE or FALSE
            return value
        value = read_cell(value, _("yes or no"))
        text = str(value if value is not None else "").strip().lower()
        if text in ("", "none", "null"):
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("%(value)s is not yes or no") % {"value": value})


class RegistryResource(resources.ModelResource):
    """Shared behaviour: strict headers, duplicates, scope, codes in their year, bulk writing."""

    required_headers: tuple[str, ...] = ()
    duplicate_columns: tuple[str, ...] = ("code",)
    # Fields written when an existing record changes (everything the file can set).
    update_fields: tuple[str, ...] = ()

    class Meta:
        # Inherited by every resource: report unchanged rows, one transaction per file. use_bulk
        # keeps import-export from opening a savepoint per row; no row is saved by it anyway
        # (save_instance collects, services.write_records writes).
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        use_bulk = True
        store_instance = False
        # import-export's own diff copies every record (deepcopy, with the records it holds) and
        # compares the values character by character: at the admin's limits, most of a preview's
        # time. Unchanged rows are recognised without it (skip_row), and the preview shows each
        # row's changes itself (after_import_row, change_html).
        skip_diff = True
        skip_html_diff = True

    _meta: Any  # import-export's options of the resource (its Meta, read like a model's _meta)

    def __init__(
        self, user: AbstractUser | None = None, reason: str = "", max_rows: int | None = None, html_diff: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        # Only the admin's preview shows each row's changes (after_import_row).
        self.html_diff = html_diff
        self._shown_before: list[str] | None = None
        self._instance: Any = None
        self._tracked = [self._meta.model._meta.get_field(name).attname for name in self.update_fields]
        self._before: dict[str, Any] | None = None
        self.user = user
        self.reason = reason
        self.max_rows = max_rows
        self.scope = write_scope(user)
        self._seen: dict[tuple, int] = {}
        self._row_numbers: list[int] = []
        self._duplicate_of: int | None = None
        self._stored_province: int | None = None
        self.lookups: Lookups | None = None
        self.created: list[Any] = []
        self.changed: list[Any] = []
        self.valid: list[Any] = []
        self.summary: WriteSummary | None = None

    def allowed_headers(self) -> set[str]:
        return {f.column_name for f in self.get_import_fields()}

    # -- the whole file -----------------------------------------------------------------------

    def import_data(self, dataset: Any, dry_run: bool = False, raise_errors: bool = False, **kwargs: Any) -> Any:
        """Validate every row (writing nothing), then, unless this is a dry run, write them all.

        `result.summary` says what is (or would be) created, changed and removed, per batch or
        year and province. A write that the database refuses is reported as an error of the
        result and nothing is written: no import reports success for rows it rolled back.
        """
        kwargs.pop("retain_instance_in_row_result", None)  # would set a class-wide option (process state)
        kwargs.pop("use_transactions", None)
        try:
            self.check_file(dataset)
        except ImportRefused as exc:
            if raise_errors:
                raise
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            result.append_base_error(Error(exc))
            result.summary = None
            return result
        # import-export counts the rows it is given; the file's own numbers (blank rows included)
        # are what the person can find, so every number reported is translated into them.
        self._row_numbers = uploads.row_numbers(dataset)
        result = super().import_data(dataset, dry_run=True, raise_errors=raise_errors, use_transactions=True, **kwargs)
        self._number_rows_as_in_the_file(result)
        if self.html_diff:  # the admin's preview: every row, with its status
            result.preview = self.preview(result)
        if result.has_errors() or result.has_validation_errors():
            return result
        unchanged = result.totals["skip"]
        try:
            if dry_run:
                self.summary = preview_write(self._meta.model, self.created, self.changed, self.valid, unchanged)
            else:
                self.summary = write_records(
                    self._meta.model,
                    self.created,
                    self.changed,
                    official=self.valid,
                    fields=self.update_fields,
                    user=self.user,
                    reason=self.reason or IMPORTED_REASON,
                    unchanged=unchanged,
                    import_file=str(kwargs.get("file_name") or ""),
                    rows=len(dataset),
                )
        except (ReplacementBlocked, PovertyCountiesRefused, PermissionDenied, ValidationError, DatabaseError) as exc:
            if raise_errors:
                raise
            problem: Any = exc
            if isinstance(exc, (IntegrityError, OperationalError)):
                logger.warning("import of %s refused by the database: %s", self._meta.model._meta.label_lower, exc)
                problem = CONCURRENT_WRITE
            elif isinstance(exc, ValidationError):
                # A service's ValidationError: the reason, a link to another place, a code out of its year.
                problem = " ".join(exc.messages)
            result.append_base_error(Error(ImportRefused(_("Nothing was imported: %(problem)s") % {"problem": problem})))
            self.summary = None
        result.summary = self.summary
        return result

    def _file_row(self, position: int) -> int:
        """The file's number of the dataset's row at `position` (1-based, as import-export counts)."""
        return self._row_numbers[position - 1] if 0 < position <= len(self._row_numbers) else position

    def _number_rows_as_in_the_file(self, result: Any) -> None:
        for row in result.invalid_rows:
            row.number = self._file_row(row.number)
        for row in result.error_rows:
            row.number = self._file_row(row.number)
            for error in row.errors:
                error.number = self._file_row(error.number) if error.number is not None else None

    # -- the admin's preview -------------------------------------------------------------------

    def column_labels(self) -> list[tuple[str, str]]:
        """(column, label) for every column of the file: the model field's verbose name in the
        request's language, or the column's own label where it is not a model field."""
        model = self._meta.model
        labels = []
        for f in self.get_import_fields():
            label = COLUMN_LABELS.get(f.column_name)
            if label is None and f.attribute:
                try:
                    label = model._meta.get_field(f.attribute).verbose_name
                except FieldDoesNotExist:
                    label = f.column_name
            labels.append((f.column_name, str(label or f.column_name)))
        return labels

    def preview(self, result: Any) -> Preview:
        """Every row of the file in order with its status (new, update, skip or error), its
        values (with what changes, for an existing record) and, for a row in error, its errors
        under the labels of their columns."""
        columns = self.column_labels()
        by_column = dict(columns)
        by_attribute = {f.attribute: by_column[f.column_name] for f in self.get_import_fields() if f.attribute}
        invalid = {row.number: row for row in result.invalid_rows}
        failed = {row.number: row for row in result.error_rows}
        rows = []
        # result.rows holds one result per row of the dataset, in order (skipped rows are reported).
        for position, row_result in enumerate(result.rows, 1):
            number = self._file_row(position)
            status = row_result.import_type
            if number in invalid:
                bad = invalid[number]
                errors = [
                    (by_column.get(key) or by_attribute.get(key) or self._field_label(key), list(messages))
                    for key, messages in bad.field_specific_errors.items()
                ]
                if bad.non_field_specific_errors:
                    errors.append((_("the row"), list(bad.non_field_specific_errors)))
                # import-export shows "---" for a column the file does not have: the cell is empty.
                cells = ["" if v is None or v == "---" else str(v) for v in bad.values]
                rows.append(PreviewRow(number, "error", cells, errors, diff=False))
            elif number in failed:
                messages = [str(error.error) for error in failed[number].errors]
                rows.append(PreviewRow(number, "error", [""] * len(columns), [(_("the row"), messages)], diff=False))
            else:
                rows.append(PreviewRow(number, status, list(row_result.diff or []), [], diff=True))
        return Preview(columns=columns, rows=rows)

    def error_columns(self) -> dict[str, str]:
        """The file's column of each error key: a row's errors are keyed by the record's attribute
        (`unit`, `batch`, `amount`), the file names the column (`code`, `batch_year`, `amount_yuan`)."""
        return {f.attribute: f.column_name for f in self.get_import_fields() if f.attribute}

    def _field_label(self, name: str) -> str:
        try:
            return str(self._meta.model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            return name

    def check_file(self, dataset: Any) -> None:
        """Refuse the file as a whole (ImportRefused) before any row is read."""
        if self.scope.writes_nothing:
            raise ImportRefused(str(NO_PROVINCE))
        if self.max_rows is not None and len(dataset) > self.max_rows:
            raise ImportRefused(
                _(
                    "The file has %(rows)s rows; the admin imports at most %(max)s in one request. Import it with the "
                    "command line instead: manage.py %(command)s FILE --user USERNAME --reason REASON (add --dry-run first)."
                )
                % {"rows": len(dataset), "max": self.max_rows, "command": self.command_name}
            )
        headers = [str(h or "").strip() for h in (dataset.headers or [])]
        unknown = [h for h in headers if h and h not in self.allowed_headers()]
        missing = [h for h in self.required_headers if h not in headers]
        problems = []
        if unknown:
            problems.append(_("unknown column(s): %(columns)s") % {"columns": ", ".join(unknown)})
        if missing:
            problems.append(_("missing column(s): %(columns)s") % {"columns": ", ".join(missing)})
        if problems:
            allowed = ", ".join(sorted(self.allowed_headers()))
            raise ImportRefused("; ".join(problems) + ". " + _("Expected columns: %(columns)s.") % {"columns": allowed})

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self._seen = {}
        self.lookups = Lookups()
        self.created, self.changed, self.valid = [], [], []
        self.load_existing(dataset)

    command_name = ""

    def load_existing(self, dataset: Any) -> None:
        """Load the records the file may change, in a few queries (not one per row)."""

    # -- each row -------------------------------------------------------------------------------

    def before_import_row(self, row: Any, row_number: int | None = None, **kwargs: Any) -> None:
        """Take back the exporter's formula guard (tables.uncell), and remember each record's key
        as written in the file, to report a repeated record."""
        for column, value in row.items():
            row[column] = tables.uncell(value)
        first = next(iter(row.values()), None)
        if isinstance(first, str) and first.strip().startswith(INSTRUCTION_MARK):  # text: an error value (#REF!) starts with # too
            raise ValidationError(_("this is the template's instruction row: delete it and enter your records below the header row"))
        key = tuple(str(row.get(column) or "").strip().removesuffix(".0") for column in self.duplicate_columns)
        self._duplicate_of = self._seen.get(key)
        if self._duplicate_of is None:
            self._seen[key] = self._file_row(row_number or len(self._seen) + 1)

    def after_init_instance(self, instance: Any, new: bool, row: Any, **kwargs: Any) -> None:
        # The province of the record as stored, before the row changes it: moving another
        # province's record into one's own is a change of that other province's record.
        self._stored_province = None if new else record_province_id(instance)
        self._before = None if new else {name: getattr(instance, name) for name in self._tracked}
        self._instance = instance
        self._shown_before = None if new or not self.html_diff else self._shown(instance)

    def _shown(self, instance: Any) -> list[str]:
        """The record's values as the file's columns show them."""
        return [str(value) if value is not None else "" for value in (f.export(instance) for f in self.get_import_fields())]

    def after_import_row(self, row: Any, row_result: Any, **kwargs: Any) -> None:
        """The preview's cells of a valid row: each value with what the row changes in it (a new
        record's values are all added)."""
        if self.html_diff:
            after = self._shown(self._instance)
            before = self._shown_before or [""] * len(after)
            label = _("full text")
            row_result.diff = [change_html(old, new, label) for old, new in zip(before, after, strict=True)]

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        # import-export's own loop over the fields (there are no many-to-many ones), except that an
        # error goes under the column it is about: the batch is read from two columns, and a bad
        # batch_sequence is not batch_year's error.
        errors = {}
        for import_field in self.get_import_fields():
            try:
                self.import_field(import_field, instance, row, lookups=self.lookups, **kwargs)
            except ValueError as exc:
                errors[getattr(exc, "column", None) or import_field.attribute] = ValidationError(str(exc), code="invalid")
        if errors:
            raise ValidationError(errors)
        # A row that makes an illustrative record real without a note of its own must not keep the
        # note that said the record was invented: a real record would be presented as made up, or
        # an official one as "not a real figure".
        if (
            self._before is not None
            and self._before.get("source_kind") == SourceKind.ILLUSTRATIVE
            and getattr(instance, "source_kind", SourceKind.ILLUSTRATIVE) != SourceKind.ILLUSTRATIVE
            and not str(row.get("source_note") or "").strip()
        ):
            instance.source_note = ""

    def skip_row(self, instance: Any, original: Any, row: Any, import_validation_errors: dict | None = None) -> bool:
        """An existing record the row leaves as it is (a repeated record is reported, never skipped)."""
        skip = (
            self._duplicate_of is None
            and not import_validation_errors
            and self._before is not None
            and all(getattr(instance, name) == value for name, value in self._before.items())
        )
        if skip:
            self.validate_instance(instance, import_validation_errors)  # unchanged, but still in scope
            self.valid.append(instance)
        return skip

    def validate_instance(self, instance: Any, import_validation_errors: dict | None = None, validate_unique: bool = True) -> None:
        errors = dict(import_validation_errors or {})
        refusal = self.scope.row_refusal(instance, self._stored_province)
        if refusal is not None:
            errors.setdefault("code", []).append(refusal)
        if self._duplicate_of is not None:
            errors.setdefault("code", []).append(
                _("the same record appears earlier in the file (row %(row)s)") % {"row": self._duplicate_of}
            )
        # Field checks and the model's own rules (a code in use in the record's year, no real record
        # tied to an illustrative one). Uniqueness and CHECK constraints are not queried per row:
        # the record's key is looked up above, repeats are caught, and the database enforces both
        # when the file is written. The unit and batch come from the lookups, so they exist: no
        # query per row to check them either.
        exclude = [*errors, "unit", "batch"]
        try:
            instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance: Any, is_create: bool, row: Any, **kwargs: Any) -> None:
        """Collect the valid record; `services.write_records` writes them all once every row is valid."""
        (self.created if is_create else self.changed).append(instance)
        self.valid.append(instance)


class BatchField(fields.Field):
    """The batch, given as `batch_year` and an optional `batch_sequence` (1 by default)."""

    def clean(self, row: dict, lookups: Lookups | None = None, **kwargs: Any) -> Batch:
        year = YearWidget().clean(row.get("batch_year"))
        if year is None:
            raise ValueError(_("batch_year is empty"))
        try:
            sequence_text = str(read_cell(row.get("batch_sequence"), _("a batch number")) or "1").strip().removesuffix(".0")
        except ValueError as exc:
            raise ColumnError("batch_sequence", str(exc)) from None
        if not sequence_text.isdigit():
            raise ColumnError("batch_sequence", _("%(value)s is not a batch number") % {"value": sequence_text})
        if lookups is not None:
            batch = lookups.batches.get((year, int(sequence_text)))
        else:
            batch = Batch.objects.filter(level=ProgrammeLevel.NATIONAL, year=year, sequence=int(sequence_text)).first()
        if batch is None:
            raise ValueError(_("there is no batch %(year)s-%(sequence)s") % {"year": year, "sequence": sequence_text})
        return batch

    def export(self, instance: Designation, **kwargs: Any) -> str:
        return str(instance.batch.year) if instance.batch_id else ""


class BatchSequenceField(fields.Field):
    """The batch's number within its year: read by BatchField with the year, shown here (in an
    export and in the preview's row, which reads each column through its field)."""

    def export(self, instance: Designation, **kwargs: Any) -> int | str:
        return instance.batch.sequence if instance.batch_id else ""


class DesignationResource(RegistryResource):
    """One row per designation: the unit's code as it was in the batch year, and the batch."""

    code = fields.Field(attribute="unit", column_name="code", widget=UnitCodeWidget())
    batch_year = BatchField(attribute="batch", column_name="batch_year")
    batch_sequence = BatchSequenceField(column_name="batch_sequence", readonly=True)
    kind = fields.Field(attribute="kind", column_name="kind", widget=ChoiceWidget(DesignationKind.choices, "new"))
    is_old_revolutionary_base = fields.Field(
        attribute="is_old_revolutionary_base", column_name="is_old_revolutionary_base", widget=OptionalBooleanWidget()
    )
    name_as_reported = fields.Field(attribute="name_as_reported", column_name="name_as_reported", widget=TextWidget())
    source = fields.Field(attribute="source", column_name="source", widget=TextWidget())
    source_kind = fields.Field(attribute="source_kind", column_name="source_kind", widget=ChoiceWidget(SourceKind.choices))
    source_note = fields.Field(attribute="source_note", column_name="source_note", widget=TextWidget())

    required_headers = ("code", "batch_year", "source", "source_kind")
    duplicate_columns = ("code", "batch_year", "batch_sequence")

    class Meta:
        model = Designation
        import_id_fields = ("code", "batch_year")
        fields = (
            "code",
            "batch_year",
            "batch_sequence",
            "kind",
            "is_old_revolutionary_base",
            "name_as_reported",
            "source",
            "source_kind",
            "source_note",
        )
        export_order = fields

    def allowed_headers(self) -> set[str]:
        return super().allowed_headers() | {"batch_sequence"}

    update_fields = ("kind", "is_old_revolutionary_base", "name_as_reported", "source", "source_kind", "source_note")
    command_name = "import_designations"

    def load_existing(self, dataset: Any) -> None:
        self.existing = {(d.unit_id, d.batch_id): d for d in Designation.objects.select_related("unit__province", "unit__current", "batch")}

    def get_instance(self, instance_loader: Any, row: dict) -> Designation | None:
        try:
            unit = UnitCodeWidget().clean(row.get("code"), lookups=self.lookups)
            batch = BatchField().clean(row, lookups=self.lookups)
        except ValueError:
            return None  # reported when the row's fields are imported
        return self.existing.get((unit.pk, batch.pk))


class FundingAllocationResource(RegistryResource):
    id = fields.Field(attribute="id", column_name="id", widget=widgets.IntegerWidget())
    code = fields.Field(attribute="unit", column_name="code", widget=UnitCodeWidget())
    fiscal_year = fields.Field(attribute="fiscal_year", column_name="fiscal_year", widget=YearWidget())
    level = fields.Field(attribute="level", column_name="level", widget=ChoiceWidget(FundingLevel.choices))
    amount = fields.Field(attribute="amount", column_name="amount_yuan", widget=AmountWidget())
    purpose = fields.Field(attribute="purpose", column_name="purpose", widget=TextWidget())
    document_number = fields.Field(attribute="document_number", column_name="document_number", widget=TextWidget())
    document_url = fields.Field(attribute="document_url", column_name="document_url", widget=TextWidget())
    source = fields.Field(attribute="source", column_name="source", widget=TextWidget())
    source_kind = fields.Field(attribute="source_kind", column_name="source_kind", widget=ChoiceWidget(SourceKind.choices))
    source_note = fields.Field(attribute="source_note", column_name="source_note", widget=TextWidget())

    required_headers = ("code", "fiscal_year", "level", "amount_yuan", "source", "source_kind")
    duplicate_columns = ("code", "fiscal_year", "level", "amount_yuan", "document_number", "purpose")

    class Meta:
        model = FundingAllocation
        import_id_fields = ("id",)
        fields = (
            "id",
            "code",
            "fiscal_year",
            "level",
            "amount",
            "purpose",
            "document_number",
            "document_url",
            "source",
            "source_kind",
            "source_note",
        )
        export_order = fields

    def check_file(self, dataset: Any) -> None:
        # `id` is only needed to change an existing allocation; a file of new ones may leave it out.
        if dataset.headers and "id" not in dataset.headers:
            dataset.append_col([""] * len(dataset), header="id")
        super().check_file(dataset)

    update_fields = (
        "unit",
        "fiscal_year",
        "level",
        "amount",
        "purpose",
        "document_number",
        "document_url",
        "source",
        "source_kind",
        "source_note",
    )
    command_name = "import_funding"

    def load_existing(self, dataset: Any) -> None:
        ids = {int(i) for i in (str(v or "").strip().removesuffix(".0") for v in dataset["id"]) if i.isdigit()}
        self.existing = {f.pk: f for f in FundingAllocation.objects.filter(pk__in=ids).select_related("unit__province", "designation")}

    def get_instance(self, instance_loader: Any, row: dict) -> FundingAllocation | None:
        try:
            identifier = str(read_cell(row.get("id"), _("a record id")) or "").strip().removesuffix(".0")
        except ValueError as exc:
            raise ValidationError({"id": str(exc)}) from None
        if not identifier:
            return None
        if not identifier.isdigit() or int(identifier) not in self.existing:
            raise ValidationError({"id": _("there is no funding record with id %(id)s") % {"id": identifier}})
        return self.existing[int(identifier)]


class PovertyStatusResource(RegistryResource):
    code = fields.Field(attribute="unit", column_name="code", widget=UnitCodeWidget())
    listed_name = fields.Field(attribute="listed_name", column_name="listed_name", widget=TextWidget())
    region = fields.Field(attribute="region", column_name="region", widget=ChoiceWidget(Region.choices))
    exit_year = fields.Field(attribute="exit_year", column_name="exit_year", widget=YearWidget(range_from_model=True))
    exit_year_note = fields.Field(attribute="exit_year_note", column_name="exit_year_note", widget=TextWidget())
    is_key_county_2012 = fields.Field(attribute="is_key_county_2012", column_name="is_key_county_2012", widget=OptionalBooleanWidget())
    is_contiguous_area_county = fields.Field(
        attribute="is_contiguous_area_county", column_name="is_contiguous_area_county", widget=OptionalBooleanWidget()
    )
    contiguous_area = fields.Field(attribute="contiguous_area", column_name="contiguous_area", widget=TextWidget())
    source = fields.Field(attribute="source", column_name="source", widget=TextWidget())
    source_kind = fields.Field(attribute="source_kind", column_name="source_kind", widget=ChoiceWidget(SourceKind.choices))
    source_note = fields.Field(attribute="source_note", column_name="source_note", widget=TextWidget())

    required_headers = ("code", "listed_name", "region", "source", "source_kind")

    class Meta:
        model = PovertyStatus
        import_id_fields = ("code",)
        fields = (
            "code",
            "listed_name",
            "region",
            "exit_year",
            "exit_year_note",
            "is_key_county_2012",
            "is_contiguous_area_county",
            "contiguous_area",
            "source",
            "source_kind",
            "source_note",
        )
        export_order = fields

    update_fields = (
        "listed_name",
        "region",
        "exit_year",
        "exit_year_note",
        "is_key_county_2012",
        "is_contiguous_area_county",
        "contiguous_area",
        "source",
        "source_kind",
        "source_note",
    )
    command_name = "import_poverty_statuses"

    def load_existing(self, dataset: Any) -> None:
        self.existing = {p.unit_id: p for p in PovertyStatus.objects.select_related("unit__province")}

    def get_instance(self, instance_loader: Any, row: dict) -> PovertyStatus | None:
        try:
            unit = UnitCodeWidget().clean(row.get("code"), lookups=self.lookups)
        except ValueError:
            return None
        return self.existing.get(unit.pk)


RESOURCES = {
    "designations": DesignationResource,
    "funding": FundingAllocationResource,
    "poverty": PovertyStatusResource,
}

# What goes in each column, shown in the template's instruction row (which never passes validation:
# it starts with INSTRUCTION_MARK, and its cells are descriptions, not values).
INSTRUCTIONS = {
    "id": gettext_lazy("empty for a new record; the id of an existing record to change it"),
    "code": gettext_lazy("the 6-digit code in use in the record's year (e.g. 130705)"),
    "batch_year": gettext_lazy("year of the batch (e.g. 2019)"),
    "batch_sequence": gettext_lazy("batch of the year: 1 unless the year had several"),
    "fiscal_year": gettext_lazy("fiscal year (e.g. 2019)"),
    "kind": "new | repeat | upgraded",
    "level": "central | provincial | county",
    "amount_yuan": gettext_lazy("amount in yuan (e.g. 20000000.00)"),
    "listed_name": gettext_lazy("name as listed among the 832"),
    "region": "east | central | west",
    "exit_year": gettext_lazy("year the county exited poverty, or empty"),
    "is_old_revolutionary_base": gettext_lazy("1 | 0 | empty (not recorded)"),
    "is_key_county_2012": gettext_lazy("1 | 0 | empty (not determined)"),
    "is_contiguous_area_county": gettext_lazy("1 | 0 | empty (not determined)"),
    "source": gettext_lazy("document number or URL of the source"),
    "source_kind": gettext_lazy(
        "official | secondary | unverified | illustrative (official records replace the illustrative ones of their cell)"
    ),
}


def template_rows(kind: str) -> list[list[str]]:
    """The header row of an import file and one instruction row, which no import accepts: the
    template imported unchanged writes nothing."""
    header = [field.column_name for field in RESOURCES[kind]().get_export_fields()]
    # In the reader's language; the column names and the values to type stay as the import reads them.
    instructions = [str(INSTRUCTIONS.get(column, "")) for column in header]
    delete_this = _("INSTRUCTIONS - delete this row.")
    instructions[0] = f"{INSTRUCTION_MARK} {delete_this} {header[0]}: {instructions[0]}"
    return [header, instructions]
