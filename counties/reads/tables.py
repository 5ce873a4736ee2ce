"""The one table writer: every CSV and XLSX the registry hands out is written here.

The public list downloads, the API's `?format=csv` (and so the statistics CSV links), the admin's
exports and `coverage_report --format csv` all pass their cells through `cell()`, so a hostile
value stored in a record comes out the same, harmless way through every door:

* A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by a
  spreadsheet as a formula (`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`, `@SUM(1)`). It gets a leading
  apostrophe, the mark spreadsheets themselves use for "this is text" (OWASP's advice for CSV
  injection). Numbers stay numbers, and text that is only a number (`-12.5`) is left alone: it
  cannot run anything.
* Characters XML forbids (C0 controls other than tab, newline and carriage return) cannot be
  written into an XLSX file at all; they become U+FFFD so that no export fails on stored text
  (the models refuse them on input, but older rows or raw SQL may still hold one).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What XML 1.0 cannot carry (openpyxl refuses these with IllegalCharacterError).
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
BOM = "\ufeff"  # so that Excel reads the Chinese names as UTF-8


def cell(value: Any) -> Any:
    """A value as it may be written into a CSV or XLSX cell: numbers as they are, text made inert."""
    if value is None or isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    text = ILLEGAL_XML.sub("\N{REPLACEMENT CHARACTER}", str(value))
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def uncell(value: Any) -> Any:
    """A cell read back from a file this module wrote: the apostrophe `cell` put before
    formula-like text is dropped, so exporting and importing unchanged data changes nothing.
    (Text that starts with an apostrophe but would not have been given one is left alone.)"""
    if isinstance(value, str) and value.startswith("'"):
        text = value[1:]
        if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(text):
            return text
    return value


def text(value: Any, missing: str = "") -> Any:
    """A cell as a CSV file or a plain-text table writes it: true/false for a boolean, `missing`
    for no value, text made inert as `cell` makes it."""
    value = cell(value)
    if value is None:
        return missing
    if value is True or value is False:
        return "true" if value else "false"
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]], bom: bool = True) -> str:
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([text(h) for h in header])
    writer.writerows([text(v) for v in row] for row in rows)
    return buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], bom: bool = True) -> bytes:
    return csv_text(header, rows, bom).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "data") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append([cell(h) for h in header])
    for row in rows:
        worksheet.append([cell(v) for v in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def render(file_format: str, header: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "data") -> bytes:
    if file_format == "csv":
        return csv_bytes(header, rows)
    if file_format == "xlsx":
        return xlsx_bytes(header, rows, sheet)
    raise ValueError(f"unknown table format {file_format!r}")


def download(file_format: str, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "data") -> HttpResponse:
    """A file download of a table, named `<filename>.<format>`."""
    content_type = CSV_CONTENT_TYPE if file_format == "csv" else XLSX_CONTENT_TYPE
    response = HttpResponse(render(file_format, header, rows, sheet), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    return response


def write_csv(stream: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """A CSV written into `stream` as the rows come (no BOM: for machines, e.g. the data package's
    members), with the same cells as every other CSV. Returns the number of rows."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([text(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([text(v) for v in row])
        count += 1
    return count
