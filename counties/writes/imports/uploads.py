"""Reading an uploaded table: the checks every import file passes, in the admin and on the CLI.

Only the two documented formats are read: CSV (UTF-8, with or without a BOM) and XLSX. Before a
file is parsed it must be at most `IMPORT_MAX_BYTES`; an XLSX file (a zip archive) must also
declare at most `IMPORT_MAX_EXPANDED_BYTES` once unzipped, checked from the archive's directory
before anything is expanded, so a zip bomb (a few kilobytes that inflate to gigabytes) is refused
without being inflated. Python's zipfile stops reading a member at its declared size, so a member
that lies about its size cannot expand past the limit either. A file with more than
`IMPORT_MAX_ROWS` data rows is refused while it is read.

Blank rows are left out, but every row read keeps its number in the file (`Rows.numbers`): row 1
is the first row below the header, and a blank row still takes its number, so an error names the
row where the person sees it (in a spreadsheet, whose line 1 is the header, on line number + 1).

An XLSX cell is read with its type, as openpyxl gives it: text, an int or a float, a datetime,
time or timedelta (a cell formatted as a date, a time or a duration), a bool, or None; an error
value (`#REF!`) becomes an `ErrorValue`, and a formula the file holds no value for (the file was
written by a program that does not calculate, openpyxl among them) an `UnsavedFormula`, where
openpyxl would give the text `#REF!` and an empty cell. The columns judge what they can read
(`counties.writes.imports.programme.read_cell`).

The admin reads through the two django-import-export formats below, which also write its exports
through the registry's one table writer (`counties.reads.tables`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export.formats import base_formats

from counties.reads import tables

FORMATS = ("csv", "xlsx")


class UploadRejected(ValidationError):
    """A file that is not read at all, with the reason (a ValidationError, so forms show it as is)."""


class Rows(tablib.Dataset):
    """A file's data rows, each with its number in the file: `numbers[i]` is the row number of
    `self[i]`, counted from the first row below the header, blank rows included (they are not
    kept, so without this the rows after one would be misnumbered)."""

    def __init__(self, headers: list[Any] | None = None) -> None:
        super().__init__(headers=headers or [])
        self.numbers: list[int] = []

    def add(self, number: int, row: list[Any]) -> None:
        if len(self) >= settings.IMPORT_MAX_ROWS:
            raise _too_many_rows()
        self.append(row)
        self.numbers.append(number)


def row_numbers(dataset: tablib.Dataset) -> list[int]:
    """The file's number of each row of `dataset` (1, 2, 3... for a dataset not read from a file)."""
    numbers = getattr(dataset, "numbers", None)
    return list(numbers) if numbers is not None and len(numbers) == len(dataset) else list(range(1, len(dataset) + 1))


@dataclass(frozen=True)
class ErrorValue:
    """A spreadsheet error value (#REF!, #N/A, #DIV/0!...): a failed formula, never data."""

    code: str

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class UnsavedFormula:
    """A formula cell saved without the value it computes (data_only reads that as empty)."""

    formula: str

    def __str__(self) -> str:
        return self.formula


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


def check_size(data: bytes) -> None:
    check_file_size(len(data))


def check_file_size(size: int) -> None:
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise UploadRejected(
            _("The file is %(size)s; files of at most %(limit)s are accepted.") % {"size": _megabytes(size), "limit": _megabytes(limit)}
        )


def check_xlsx_archive(data: bytes) -> None:
    """Refuse an XLSX whose declared unzipped size is over the limit, before expanding any of it."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise UploadRejected(_("This is not a readable XLSX file (%(reason)s).") % {"reason": exc}) from None
    expanded = sum(member.file_size for member in members)
    limit = settings.IMPORT_MAX_EXPANDED_BYTES
    if expanded > limit:
        raise UploadRejected(
            _("This XLSX file would expand to %(size)s; at most %(limit)s is accepted. Save it again, or split it.")
            % {"size": _megabytes(expanded), "limit": _megabytes(limit)}
        )


def _too_many_rows() -> UploadRejected:
    return UploadRejected(_("The file has more than %(limit)s data rows; split it.") % {"limit": settings.IMPORT_MAX_ROWS})


def read_csv(data: bytes) -> Rows:
    check_size(data)
    if data.startswith(b"PK\x03\x04"):  # a ZIP archive: an XLSX file named .csv, most likely
        raise UploadRejected(_("This is an Excel (XLSX) file, not a CSV: choose the XLSX format, or save it as “CSV UTF-8”."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Not the decoder's English reason: the byte where it stopped says enough.
        raise UploadRejected(
            _("The file is not UTF-8 (it stops being UTF-8 at byte %(byte)s); save the CSV as UTF-8 (“CSV UTF-8” in Excel), or use XLSX.")
            % {"byte": exc.start}
        ) from None
    try:
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        dataset = Rows(headers=header or [])
        width = len(header or [])
        # Numbered by record, not by line: a quoted cell may span lines, but it is one row of the
        # spreadsheet the file is opened in.
        for number, row in enumerate(rows, 1):
            if not any(cell.strip() for cell in row):
                continue  # blank lines (and lines of commas only): skipped, though they keep their number
            if len(row) > width:
                raise UploadRejected(
                    _("Row %(row)s has %(cells)s cells; the header has %(columns)s.") % {"row": number, "cells": len(row), "columns": width}
                )
            dataset.add(number, row + [""] * (width - len(row)))  # Excel drops empty trailing cells
    except csv.Error as exc:
        raise UploadRejected(_("This is not a readable CSV file (%(reason)s).") % {"reason": exc}) from None
    return with_records(dataset)


def read_xlsx(data: bytes) -> Rows:
    check_size(data)
    check_xlsx_archive(data)
    from openpyxl import load_workbook

    try:
        # data_only: the values a formula last computed, never the formula itself. The cells (not
        # just their values) carry the type that tells an error value from text.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        # If the file has formulas, the same sheet is read for them too, beside it: the only way (in
        # openpyxl's public interface) to tell a formula with no saved value from an empty cell.
        # It doubles the reading time, so only then.
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False) if _holds_formulas(data) else None
        # Read to the last row there is, not to the sheet's own <dimension>: some writers put "A1"
        # there, and the rows after it were silently left out ("0 rows read").
        for book in (workbook, formulas) if formulas else (workbook,):
            book.active.reset_dimensions()
        rows = zip_longest(workbook.active.iter_rows(), formulas.active.iter_rows(values_only=True) if formulas else iter(()), fillvalue=())
        header_cells, _formulas = next(rows, ((), ()))
        dataset = Rows(headers=[cell.value for cell in header_cells])
        # openpyxl yields the rows missing from the sheet too (as empty ones), so the count is the
        # sheet's own row number less the header's.
        for number, (cells_read, formulas_read) in enumerate(rows, 1):
            cells = [_cell_value(cell, formula) for cell, formula in zip_longest(cells_read, formulas_read)]
            if all(value is None for value in cells):
                continue  # blank rows (Excel keeps some after deletions): skipped, though they keep their number
            width = len(dataset.headers)
            if any(value is not None for value in cells[width:]):
                raise UploadRejected(_("Row %(row)s has cells beyond the header's columns.") % {"row": number})
            dataset.add(number, cells[:width] + [None] * (width - len(cells)))
        workbook.close()
        if formulas:
            formulas.close()
    except UploadRejected:
        raise
    except Exception as exc:  # a damaged file can fail anywhere in openpyxl; the user needs the reason, not a 500
        raise UploadRejected(_("This is not a readable XLSX file (%(reason)s).") % {"reason": f"{type(exc).__name__}: {exc}"}) from None
    return with_records(dataset)


def with_records(dataset: Rows) -> Rows:
    """`dataset`, unless it holds no record: a file with nothing below its header (or nothing at
    all) is refused with words that say so, not read as an import of nothing."""
    if len(dataset):
        return dataset
    if any(str(h or "").strip() for h in dataset.headers or []):
        raise UploadRejected(_("The file has its header row but no records below it: enter one record per row under the header."))
    raise UploadRejected(_("The file is empty: it needs the header row and one record per row below it."))


# A formula element (<f>, <f t="shared" .../>, <x:f>) in a sheet's XML; not <formula> or <filters>.
FORMULA_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


def _holds_formulas(data: bytes) -> bool:
    """Whether any sheet of the (already size-checked) XLSX file has a formula, read in pieces."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as member:
                    tail = b""
                    while chunk := member.read(1 << 20):
                        if FORMULA_ELEMENT.search(tail + chunk):
                            return True
                        tail = chunk[-64:]  # an element cut in two by the piece
    return False


def _cell_value(cell: Any, formula: Any) -> Any:
    """A cell's value, read as its type says (see the module's docstring); `formula` is the same
    cell read without data_only (the formula where there is one, else the same value), or None
    when the file has no formulas."""
    value = getattr(cell, "value", None)
    data_type = getattr(cell, "data_type", None)
    if value is not None:
        return ErrorValue(str(value)) if data_type == "e" else value
    # A formula whose text result is "" is saved as type "str" with an empty value: that cell is
    # empty. Otherwise an empty value where the other reading has one means a formula never
    # calculated (openpyxl writes `<v/>` after each formula it saves).
    if formula is not None and data_type != "str":
        return UnsavedFormula(str(formula if isinstance(formula, str) else getattr(formula, "text", None) or "="))
    return value


def read_table(file_format: str, data: bytes) -> tablib.Dataset:
    if file_format == "csv":
        return read_csv(data)
    if file_format == "xlsx":
        return read_xlsx(data)
    raise UploadRejected(_("Use a CSV (UTF-8) or XLSX file."))


# -- the admin's formats (django-import-export) ---------------------------------------------------


class CSVFormat(base_formats.CSV):
    """CSV in the admin: read with the checks above, written by the table writer (with its BOM).

    Binary on both sides: the bytes are decoded here (one place, one message for a non-UTF-8
    file) and the written file already carries its BOM.
    """

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        return read_csv(in_stream if isinstance(in_stream, bytes) else str(in_stream).encode("utf-8"))

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        return tables.csv_bytes(dataset.headers or [], dataset)


class XLSXFormat(base_formats.XLSX):
    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        return read_xlsx(in_stream)

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        return tables.xlsx_bytes(dataset.headers or [], dataset)


ADMIN_FORMATS = [CSVFormat, XLSXFormat]
