"""Load the reference data in `data/` into the registry, idempotently.

Every file is read and validated before anything is written; a missing file, a missing column or
a bad value stops the load with a message naming the file and line, and nothing is written. The
writes then run in one transaction and touch only rows whose values differ, so a second run
changes nothing and says so. Rows the files do not mention (records staff added) are left alone.

The container runs this on every start, so it must never undo what staff did: it remembers what it
last wrote to each record (ReferenceSnapshot, by the rule of counties.writes.snapshots, which the
illustrative roster follows too) and changes a field only while the record still holds
that value. A value changed since, or a record deleted since, stays as staff left it and is
reported. Every change it makes goes through `services.write_records`, as every door's does, and
is in history with a reason that names the reload.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, overload

from django.db import IntegrityError, transaction

from counties.caching.token import mark_data_changed
from counties.models import (
    FIRST_DIVISION_YEAR,
    FIRST_EXIT_YEAR,
    FIRST_PROGRAMME_YEAR,
    LAST_EXIT_YEAR,
    LAST_PLAUSIBLE_YEAR,
    LAST_REFERENCE_YEAR,
    Batch,
    Designation,
    DesignationKind,
    ListedPovertyCounty,
    PovertyStatus,
    Prefecture,
    ProgrammeFact,
    ProgrammeLevel,
    Province,
    PublishedProvinceCount,
    SourceKind,
    SuccessionKind,
    Unit,
    UnitSuccession,
    naming,
)
from counties.models.programme import POVERTY_SOURCE, POVERTY_SOURCE_NOTE, REFERENCE_CHANGED_REASON, REFERENCE_CREATED_REASON
from counties.reads.places import PlaceResolver, repeat_selections
from counties.writes.feed import record_unfed
from counties.writes.services import PovertyCountiesRefused, ReplacementBlocked, rebuild_lineage, record_initial_history
from counties.writes.snapshots import MISSING, Loaded, ModelCount, sync_records

FILES = {
    "units": "counties_2014_2020.csv",
    "history": "admin_divisions_history_1981_2024.csv",
    "registry_units": "registry_units.csv",
    "poverty": "poverty_counties_832.csv",
    "categories": "poverty_county_categories.csv",
    "batches": "batches.csv",
    "designations": "demo_counties_found.csv",
    "facts": "programme_facts.csv",
    "derived_facts": "programme_facts_derived.csv",
    "notices": "programme_notices.csv",
    "province_counts": "demo_counties_province_counts.csv",
}

# The units file describes the codes in use from the programme's first year to the end of its
# window, 2020 (its columns in_2014 ... in_2020): a fact of the file. The code history carries
# the units on to LAST_REFERENCE_YEAR: the codes created after the window (黔西市 520581, 2021)
# and every successor a unit of the file names (儋州市 460400, a city without districts from 2015).
WINDOW_FIRST, WINDOW_LAST = FIRST_PROGRAMME_YEAR, 2020
MUNICIPALITIES = {"110000", "120000", "310000", "500000"}

# Where a retired code split among several successors, which one it *became*. The loader picks
# the successor with the same name stem (宣化县 → 宣化区), else the one created that year; these
# are the cases that rule gets wrong.
PRIMARY_SUCCESSOR_OVERRIDES = {"140211": "140214"}  # 大同 南郊区 became 云冈区, not 平城区

# The source as the public reads it (it is shown on every poverty county's page); where the list
# was taken from is the note, for staff and API clients (data/PROVENANCE.md §2 has the details).
FACT_STATUS = {"found": SourceKind.SECONDARY, "secondary": SourceKind.SECONDARY, "not_verified": SourceKind.UNVERIFIED}

# A batch no notice row speaks of: its notice is not recorded.
NO_NOTICE: dict[str, Any] = {
    "notice_title": "",
    "document_number": "",
    "document_date": None,
    "notice_issuers": "",
    "document_url": "",
    "notice_source": "",
    "notice_source_kind": "",
}

_CODE = re.compile(r"^[0-9]{6}$")
_SUCCESSOR_TOKEN = re.compile(r"^([0-9]{6})(?:\[([0-9]{4})\])?$")


class ReferenceDataError(Exception):
    """A reference file is missing or malformed; the message names the file and line."""


@dataclass
class Row:
    file: str
    line: int
    values: dict[str, str]

    def error(self, message: str) -> ReferenceDataError:
        return ReferenceDataError(f"{self.file}, line {self.line}: {message}")

    def __getitem__(self, column: str) -> str:
        return self.values[column]

    def code(self, column: str, *, blank: bool = False) -> str:
        value = self[column]
        if blank and value == "":
            return ""
        if not _CODE.match(value):
            raise self.error(f"column {column!r} must be a 6-digit code, got {value!r}")
        return value

    @overload
    def year(self, column: str, *, blank: Literal[False] = False, low: int = ..., high: int = ...) -> int: ...
    @overload
    def year(self, column: str, *, blank: bool, low: int = ..., high: int = ...) -> int | None: ...
    def year(self, column: str, *, blank: bool = False, low: int = FIRST_DIVISION_YEAR, high: int = LAST_PLAUSIBLE_YEAR) -> int | None:
        value = self[column]
        if blank and value == "":
            return None
        if not value.isdigit() or not low <= int(value) <= high:
            raise self.error(f"column {column!r} must be a year between {low} and {high}, got {value!r}")
        return int(value)

    def integer(self, column: str) -> int | None:
        value = self[column]
        if value == "":
            return None
        if not value.isdigit():
            raise self.error(f"column {column!r} must be a whole number, got {value!r}")
        return int(value)

    def iso_date(self, column: str) -> date | None:
        value = self.values[column]
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            raise self.error(f"column {column!r} must be a date YYYY-MM-DD, got {value!r}") from None

    def decimal(self, column: str) -> Decimal | None:
        value = self[column]
        if value == "":
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.error(f"column {column!r} must be a number, got {value!r}") from None
        if not number.is_finite() or number < 0:
            raise self.error(f"column {column!r} must be a non-negative number, got {value!r}")
        return number

    def choice(self, column: str, allowed: set[str]) -> str:
        value = self[column]
        if value not in allowed:
            raise self.error(f"column {column!r} must be one of {', '.join(sorted(allowed))}; got {value!r}")
        return value

    def required(self, column: str) -> str:
        value = self[column]
        if not value:
            raise self.error(f"column {column!r} is empty")
        return value


def read_csv(directory: Path, name: str, columns: list[str]) -> list[Row]:
    path = directory / name
    if not path.is_file():
        raise ReferenceDataError(f"{name}: file not found in {directory}")
    rows = []
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise ReferenceDataError(f"{name}, line 1: missing column(s) {', '.join(missing)}")
            for values in reader:
                row = Row(name, reader.line_num, values)
                if None in values:
                    raise row.error(f"more fields than the header's {len(header)}")
                if any(v is None for v in values.values()):
                    raise row.error(f"fewer fields than the header's {len(header)}")
                row.values = {k: v.strip() for k, v in values.items()}
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(f"{name}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ReferenceDataError(f"{name}: not a readable CSV file ({exc})") from None
    if not rows:
        raise ReferenceDataError(f"{name}: no data rows")
    return rows


# History reasons of the loader's writes: they name the reload.
CREATED_REASON, CHANGED_REASON = REFERENCE_CREATED_REASON, REFERENCE_CHANGED_REASON


@dataclass
class LoadReport:
    counts: dict[str, ModelCount] = field(default_factory=dict)
    lineage_rows_written: int = 0

    @property
    def changed(self) -> bool:
        return self.lineage_rows_written > 0 or any(c.created or c.updated for c in self.counts.values())

    @property
    def kept(self) -> list[str]:
        return [line for count in self.counts.values() for line in count.kept]

    def lines(self) -> Iterator[str]:
        for label, count in self.counts.items():
            yield f"{label}: {count.created} created, {count.updated} updated, {count.unchanged} unchanged"
        if not self.changed:
            yield "Nothing changed: the database already matches the reference data."
        if self.kept:
            yield (
                f"Kept {len(self.kept)} value(s) changed in the registry since the last load, where the reference files "
                "say otherwise (change them in the admin if the files are right):"
            )
            for line in self.kept:
                yield f"  {line}"


def _sync(
    label: str, model: type[Any], key: tuple[str, ...], rows: list[dict[str, Any]], keep: Any = None, among: Any = None
) -> tuple[ModelCount, dict[tuple, int]]:
    """`rows` written by the snapshot rule every loader shares (snapshots.sync_records)."""
    return sync_records(Loaded(model, CREATED_REASON, CHANGED_REASON), label, key, rows, keep=keep, among=among)


def _keep_checked_names(current: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """The loader regenerates romanised names only while they are still marked generated."""
    if current.get("name_en_generated") is False:
        return {k: v for k, v in row.items() if k not in {"name_en", "name_pinyin", "name_en_generated"}}
    return row


class Loader:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    # -- reading and validating -------------------------------------------------------------

    def read(self) -> None:
        d = self.directory
        self.unit_rows = read_csv(
            d,
            FILES["units"],
            [
                "code",
                "name",
                "other_names_2014_2020",
                "county_type",
                "parent_type",
                "prefecture_code",
                "prefecture_name",
                "province_code",
                "province_name",
                "first_year_in_window",
                "last_year_in_window",
                "code_retired_year",
                "successor_codes",
                *[f"in_{y}" for y in range(WINDOW_FIRST, WINDOW_LAST + 1)],
            ],
        )
        self.history_rows = read_csv(
            d, FILES["history"], ["code", "name", "level", "province_name", "parent_name", "start_year", "end_year", "new_codes"]
        )
        self.registry_rows = read_csv(
            d,
            FILES["registry_units"],
            [
                "key",
                "name_zh",
                "unit_type",
                "province_code",
                "prefecture_code",
                "first_year",
                "last_year",
                "successor_code",
                "successor_year",
                "listed_name",
                "note",
            ],
        )
        self.poverty_rows = read_csv(
            d,
            FILES["poverty"],
            [
                "code_2014",
                "code_2020",
                "province_code",
                "region_en",
                "exit_year",
                "exit_year_source_list",
                "exit_year_notice",
                "source_name",
                "notes",
                "notes_zh",
            ],
        )
        self.category_rows = read_csv(
            d,
            FILES["categories"],
            [
                "code_2014",
                "name",
                "province_name",
                "is_key_county_2012",
                "contiguous_area_name",
                "source_url",
                "confidence",
                "note",
            ],
        )
        self.batch_rows = read_csv(
            d,
            FILES["batches"],
            [
                "year",
                "sequence",
                "title_zh",
                "title_en",
                "planned_size",
                "provinces_count",
                "central_funds_total_yuan",
                "central_funds_per_county_yuan",
                "min_poverty_share_pct",
                "published_poverty_counties",
                "published_old_base_counties",
                "published_poverty_share_pct",
                "list_url",
                "list_date",
                "source",
                "source_kind",
                "source_note",
                "source_note_zh",
            ],
        )
        self.designation_rows = read_csv(
            d,
            FILES["designations"],
            [
                "batch_year",
                "province_name",
                "name_as_reported",
                "code_2014",
                "name_matched",
                "source_url",
                "source_note",
                "confidence",
            ],
        )
        self.fact_rows = read_csv(
            d, FILES["facts"], ["fact_id", "period", "metric", "value", "unit", "note", "note_zh", "source", "status"]
        )
        self.province_count_rows = read_csv(
            d, FILES["province_counts"], ["batch_year", "province_name", "counties_stated", "source_url", "note"]
        )
        self.derived_fact_rows = read_csv(d, FILES["derived_facts"], ["fact_id", "derived_part", "note", "note_zh"])
        self.notice_rows = read_csv(
            d,
            FILES["notices"],
            [
                "batch_year",
                "batch_sequence",
                "title",
                "document_number",
                "document_date",
                "issuers",
                "url",
                "source",
                "status",
                "note",
                "note_zh",
            ],
        )

    def build(self) -> None:
        """Turn the rows into field values, validating as it goes (no database access)."""
        self._build_units()
        self._build_successions()
        self._build_poverty()
        self._build_batches()
        self._build_notices()
        self._build_designations()
        self._build_facts()
        self._build_province_counts()

    def _build_units(self) -> None:
        unit_types = {c for c, _ in Unit._meta.get_field("unit_type").choices or ()}
        parent_types = {c for c, _ in Unit._meta.get_field("parent_type").choices or ()}
        history: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        for row in self.history_rows:
            if row["level"] == "county":
                history[row.code("code")].append((row.year("start_year"), row.year("end_year", blank=True)))

        self.provinces: dict[str, str] = {}
        self.prefectures: dict[str, tuple[str, str]] = {}
        self.units: dict[str, dict[str, Any]] = {}
        for row in self.unit_rows:
            code = row.code("code")
            if code in self.units:
                raise row.error(f"code {code} appears twice")
            province = row.code("province_code")
            if province not in naming.PROVINCE_NAMES_EN or province not in naming.PROVINCE_SHORT_NAMES:
                raise row.error(f"unknown province code {province}")
            self.provinces[province] = row.required("province_name")
            prefecture = row.code("prefecture_code", blank=True)
            if prefecture:
                self.prefectures[prefecture] = (row.required("prefecture_name"), province)
            flags = [row.choice(f"in_{y}", {"0", "1"}) == "1" for y in range(WINDOW_FIRST, WINDOW_LAST + 1)]
            first = row.year("first_year_in_window", low=WINDOW_FIRST, high=WINDOW_LAST)
            last = row.year("last_year_in_window", low=WINDOW_FIRST, high=WINDOW_LAST)
            expected = [first <= y <= last for y in range(WINDOW_FIRST, WINDOW_LAST + 1)]
            if flags != expected:
                raise row.error("in_YYYY flags disagree with first_year_in_window/last_year_in_window")
            retired = row.year("code_retired_year", blank=True)
            # A code still in use at end-2020 was either retired later (its successor lies outside
            # the window) or renamed in place (its "successor" is itself).
            in_use_2020 = last == WINDOW_LAST
            last_year = last if not in_use_2020 else (retired - 1 if retired and retired > WINDOW_LAST else None)
            name = row.required("name")
            self.units[code] = {
                "key": code,
                "code": code,
                "name_zh": name,
                "other_names": row["other_names_2014_2020"],
                "name_pinyin": naming.pinyin_name(name),
                "name_en": naming.english_name(name),
                "name_en_generated": True,
                "unit_type": row.choice("county_type", unit_types),
                "province": province,
                "prefecture": prefecture or None,
                "parent_type": row.choice("parent_type", parent_types),
                "first_year": _first_year(history.get(code, []), first),
                "last_year": last_year,
                "notes": "",
            }

        for row in self.registry_rows:
            key = row.required("key")
            if not re.match(r"^X[0-9]{6}$", key):
                raise row.error(f"registry key must be X and six digits, got {key!r}")
            province = row.code("province_code")
            prefecture = row.code("prefecture_code", blank=True)
            if province not in self.provinces or (prefecture and prefecture not in self.prefectures):
                raise row.error("unknown province or prefecture code")
            name = row.required("name_zh")
            self.units[key] = {
                "key": key,
                "code": None,
                "name_zh": name,
                "other_names": "",
                "name_pinyin": naming.pinyin_name(name),
                "name_en": naming.english_name(name),
                "name_en_generated": True,
                "unit_type": row.choice("unit_type", unit_types),
                "province": province,
                "prefecture": prefecture or None,
                "parent_type": "prefecture" if prefecture else "province-administered",
                "first_year": row.year("first_year", blank=True),
                "last_year": row.year("last_year", blank=True),
                "notes": row["note"],
            }
        self._extend_past_window()

    def _extend_past_window(self) -> None:
        """Units from the code history: every county-level code created after the window and up
        to LAST_REFERENCE_YEAR, and every successor a unit names that is not a unit yet (儋州市
        460400, a prefecture-level city without districts). Their successions follow from
        `self.extension_rows` as the units file's do."""
        self.extension_rows: list[Row] = []
        wanted: dict[str, int] = {}  # code -> the year it was created, for successors the units name
        for row in self.unit_rows:
            retired = row.year("code_retired_year", blank=True)
            for token in row["successor_codes"].split(";"):
                match = _SUCCESSOR_TOKEN.match(token.strip())
                if match and match[1] not in self.units and retired is not None and retired <= LAST_REFERENCE_YEAR:
                    wanted[match[1]] = int(match[2]) if match[2] else retired
        province_by_name = {name: code for code, name in self.provinces.items()}
        prefecture_by_name = {(name, province): code for code, (name, province) in self.prefectures.items()}
        history_years = [row.year("end_year", blank=True) or row.year("start_year") for row in self.history_rows]
        if max(history_years) < LAST_REFERENCE_YEAR:
            raise ReferenceDataError(f"{FILES['history']}: the history ends before {LAST_REFERENCE_YEAR} (LAST_REFERENCE_YEAR)")
        for row in self.history_rows:
            code, start = row.code("code"), row.year("start_year")
            created_later = row["level"] == "county" and WINDOW_LAST < start <= LAST_REFERENCE_YEAR
            if not created_later and wanted.get(code) != start:
                continue
            if code in self.units:
                raise row.error(f"code {code} is already a unit of {FILES['units']}")
            province = province_by_name.get(row["province_name"])
            if province is None:
                raise row.error(f"unknown province {row['province_name']!r}")
            end = row.year("end_year", blank=True)
            name = row.required("name")
            prefecture = prefecture_by_name.get((row["parent_name"], province))
            if prefecture is not None:
                parent_type = "prefecture"
            elif row["parent_name"] == "直辖" or row["level"] == "prefecture":
                parent_type = "municipality" if province in MUNICIPALITIES else "province-administered"
            else:
                raise row.error(f"unknown prefecture {row['parent_name']!r}")
            self.units[code] = {
                "key": code,
                "code": code,
                "name_zh": name,
                "other_names": "",
                "name_pinyin": naming.pinyin_name(name),
                "name_en": naming.english_name(name),
                "name_en_generated": True,
                "unit_type": _unit_type(name, row["level"]),
                "province": province,
                "prefecture": prefecture,
                "parent_type": parent_type,
                "first_year": start,
                "last_year": end - 1 if end is not None and end <= LAST_REFERENCE_YEAR else None,
                "notes": "",
            }
            self.extension_rows.append(row)
        missing = sorted(set(wanted) - set(self.units))
        if missing:
            raise ReferenceDataError(f"{FILES['history']}: no entry for the successor code(s) {', '.join(missing)}")

    def _build_successions(self) -> None:
        # (predecessor key, successor code, year) -> kind, primary
        self.successions: dict[tuple[str, str, int], dict[str, Any]] = {}
        later = [(row, row["new_codes"], "end_year") for row in self.extension_rows]
        for row, successor_codes, retired_column in [*((r, r["successor_codes"], "code_retired_year") for r in self.unit_rows), *later]:
            code = row["code"]
            tokens = [t for t in successor_codes.split(";") if t.strip()]
            if not tokens:
                continue
            retired = row.year(retired_column, blank=True)
            if retired is None:
                raise row.error("successor_codes given without code_retired_year")
            parsed = []
            for token in tokens:
                match = _SUCCESSOR_TOKEN.match(token.strip())
                if not match:
                    raise row.error(f"malformed successor {token!r} (expected a 6-digit code, optionally followed by [YYYY])")
                if match[1] not in self.units and retired_column == "end_year":
                    continue  # a successor after LAST_REFERENCE_YEAR: not a unit yet
                parsed.append((match[1], int(match[2]) if match[2] else None))
            continues = any(succ == code and year is None for succ, year in parsed)
            replacements = []
            for succ, year in parsed:
                if succ == code:
                    continue  # renamed in place: the same unit carries on
                kind = SuccessionKind.AREA_TRANSFER if (year is not None or continues) else SuccessionKind.REPLACED
                if kind == SuccessionKind.REPLACED:
                    replacements.append(succ)
                self.successions[(code, succ, year or retired)] = {"kind": kind, "is_primary": False}
            if replacements and self.units[code]["last_year"] is not None:
                primary = self._choose_primary(code, replacements, retired)
                self.successions[(code, primary, retired)]["is_primary"] = True
        for row in self.registry_rows:
            successor = row.code("successor_code", blank=True)
            if successor:
                if successor not in self.units:
                    raise row.error(f"successor {successor} is not a known code")
                year = row.year("successor_year")
                self.successions[(row["key"], successor, year)] = {"kind": SuccessionKind.REPLACED, "is_primary": True}

    def _choose_primary(self, code: str, candidates: list[str], retired: int) -> str:
        if code in PRIMARY_SUCCESSOR_OVERRIDES:
            return PRIMARY_SUCCESSOR_OVERRIDES[code]
        stem = naming.split_suffix(self.units[code]["name_zh"])[0]
        for candidate in candidates:
            if candidate in self.units and naming.split_suffix(self.units[candidate]["name_zh"])[0] == stem:
                return candidate
        for candidate in candidates:
            if candidate in self.units and self.units[candidate]["first_year"] == retired:
                return candidate
        return candidates[0]

    def _build_poverty(self) -> None:
        registry_by_name = {r["listed_name"]: r["key"] for r in self.registry_rows}
        categories: dict[str, Row] = {}
        for row in self.category_rows:
            key = row.code("code_2014", blank=True) or registry_by_name.get(row["name"])
            if not key:
                raise row.error(f"{row['name']!r} has no code and is not a registry unit")
            if key in categories:
                raise row.error(f"{key} appears twice")
            categories[key] = row

        regions = {"east", "central", "west"}
        self.poverty: dict[str, dict[str, Any]] = {}
        for row in self.poverty_rows:
            key = row.code("code_2014", blank=True) or registry_by_name.get(row["source_name"])
            if not key or key not in self.units:
                raise row.error(f"no unit for poverty county {row['source_name']!r} (code_2014 {row['code_2014']!r})")
            if key in self.poverty:
                raise row.error(f"poverty county {key} appears twice")
            notes = [row["notes"]] if row["notes"] else []
            notes_zh = [row["notes_zh"]] if row["notes_zh"] else []
            if row["notes"] and not row["notes_zh"]:
                raise row.error("notes has no Chinese version in notes_zh (the Chinese pages show it)")
            if row["exit_year_source_list"] != row["exit_year_notice"]:
                listed, notice = row["exit_year_source_list"], row["exit_year_notice"]
                notes.append(f"The source list gives {listed}, the exit notice {notice}; the notice is used.")
                notes_zh.append(f"来源名单为 {listed} 年，摘帽公告为 {notice} 年；采用公告年份。")
            values: dict[str, Any] = {
                "unit": key,
                "region": row.choice("region_en", regions),
                "exit_year": row.year("exit_year", blank=True, low=FIRST_EXIT_YEAR, high=LAST_EXIT_YEAR),
                "exit_year_note": " ".join(notes),
                "exit_year_note_zh": "".join(notes_zh),
                "listed_name": row.required("source_name"),
                "is_key_county_2012": None,
                "is_contiguous_area_county": None,
                "contiguous_area": "",
                "category_source": "",
                "source": POVERTY_SOURCE,
                "source_kind": SourceKind.SECONDARY,
                "source_note": POVERTY_SOURCE_NOTE,
            }
            category = categories.pop(key, None)
            if category is not None:
                values.update(_categories(category))
            self.poverty[key] = values
        if categories:
            stray = next(iter(categories.values()))
            raise stray.error(f"{stray['name']} is not one of the 832 poverty counties")

    def _build_batches(self) -> None:
        kinds = set(SourceKind.values) - {SourceKind.ILLUSTRATIVE}
        self.batches: dict[tuple[int, int], dict[str, Any]] = {}
        for row in self.batch_rows:
            year = row.year("year", low=FIRST_PROGRAMME_YEAR, high=LAST_REFERENCE_YEAR)
            sequence = row.integer("sequence") or 1
            for pct in ("min_poverty_share_pct", "published_poverty_share_pct"):
                if (row.decimal(pct) or 0) > 100:
                    raise row.error(f"column {pct!r} is a percentage, got {row[pct]!r}")
            self.batches[(year, sequence)] = {
                "year": year,
                "sequence": sequence,
                "title_zh": row.required("title_zh"),
                "title_en": row.required("title_en"),
                "planned_size": row.integer("planned_size"),
                "provinces_count": row.integer("provinces_count"),
                "central_funds_total": row.decimal("central_funds_total_yuan"),
                "central_funds_per_county": row.decimal("central_funds_per_county_yuan"),
                "min_poverty_share_pct": row.decimal("min_poverty_share_pct"),
                "published_poverty_counties": row.integer("published_poverty_counties"),
                "published_old_base_counties": row.integer("published_old_base_counties"),
                "published_poverty_share_pct": row.decimal("published_poverty_share_pct"),
                "list_url": row["list_url"],
                "list_date": row.iso_date("list_date"),
                # The notice: from programme_notices.csv where a source states it, else not recorded.
                **NO_NOTICE,
                "source": row.required("source"),
                "source_kind": row.choice("source_kind", kinds),
                "source_note": row["source_note"],
                "source_note_zh": row["source_note_zh"],
            }

    def _build_notices(self) -> None:
        """Each batch's notice, as far as a source states it; a part no source states stays empty."""
        seen: set[tuple[int, int]] = set()
        for row in self.notice_rows:
            key = (row.year("batch_year", low=FIRST_PROGRAMME_YEAR), row.integer("batch_sequence") or 1)
            if key not in self.batches:
                raise row.error(f"no batch {key[0]}-{key[1]} in {FILES['batches']}")
            if key in seen:
                raise row.error(f"batch {key[0]}-{key[1]} has a second notice row")
            seen.add(key)
            stated = any(row[c] for c in ("title", "document_number", "document_date", "issuers", "url"))
            if stated and not row["source"]:
                raise row.error("a notice stated without a source")
            self.batches[key].update(
                {
                    "notice_title": row["title"],
                    "document_number": row["document_number"],
                    "document_date": row.iso_date("document_date"),
                    "notice_issuers": row["issuers"],
                    "document_url": row["url"],
                    "notice_source": row["source"],
                    "notice_source_kind": (FACT_STATUS.get(row["status"]) or row.choice("status", set(FACT_STATUS))) if stated else "",
                }
            )

    def _build_designations(self) -> None:
        self.designations: dict[tuple[str, tuple[int, int]], dict[str, Any]] = {}
        resolver = PlaceResolver(
            {pred: (succ, year) for (pred, succ, year), v in self.successions.items() if v["is_primary"] and succ in self.units}
        )
        for row in self.designation_rows:
            year = row.year("batch_year", low=FIRST_PROGRAMME_YEAR)
            batch_key = (year, 1)
            if batch_key not in self.batches:
                raise row.error(f"no batch for year {year} in {FILES['batches']}")
            code = row.code("code_2014")
            if code not in self.units:
                raise row.error(f"unknown code {code}")
            if self.units[code]["name_zh"] != row["name_matched"] and row["name_matched"] not in self.units[code]["other_names"]:
                raise row.error(f"code {code} is {self.units[code]['name_zh']}, not {row['name_matched']}")
            # Record the designation against the unit as it was in the batch year.
            key = resolver.place(code, year)
            if (key, batch_key) in self.designations:
                raise row.error(f"{key} is designated twice in the {year} batch")
            self.designations[(key, batch_key)] = {
                "unit": key,
                "batch": batch_key,
                "kind": DesignationKind.NEW,
                "is_old_revolutionary_base": None,
                "name_as_reported": row["name_as_reported"],
                "source": row.required("source_url"),
                "source_kind": SourceKind.SECONDARY,
                "source_note": f"{row['source_note']} (confidence: {row.required('confidence')})",
            }
        # A place named in an earlier batch of these files is selected again (the services' rule).
        repeats = repeat_selections(resolver, [(key, key[0], key[1][0]) for key in self.designations])
        for designation_key, values in self.designations.items():
            if designation_key in repeats:
                values["kind"] = DesignationKind.REPEAT

    def _build_facts(self) -> None:
        self.facts: dict[str, dict[str, Any]] = {}
        for row in self.fact_rows:
            fact_id = row.required("fact_id")
            if not re.match(r"^[-a-zA-Z0-9_]+$", fact_id) or fact_id in self.facts:
                raise row.error(f"fact_id {fact_id!r} is not a unique identifier")
            try:
                value = Decimal(row["value"])
            except InvalidOperation:
                value = None  # published as text, e.g. "full coverage" or "20 / 20"
            self.facts[fact_id] = {
                "fact_id": fact_id,
                "period": row.required("period"),
                "metric": row.required("metric"),
                "value": value,
                "value_text": row["value"] or "—",
                "value_unit": row["unit"],
                "source": row.required("source"),
                "source_kind": FACT_STATUS.get(row["status"]) or row.choice("status", set(FACT_STATUS)),
                "source_note": row["note"],
                "source_note_zh": row["note_zh"],
                "derived": False,
            }
            if row["note"] and not row["note_zh"]:
                raise row.error("note has no Chinese version in note_zh (the Chinese pages show it)")
        for row in self.derived_fact_rows:
            fact_id = row.required("fact_id")
            if fact_id not in self.facts:
                raise row.error(f"no figure {fact_id!r} in {FILES['facts']}")
            row.required("note")
            self.facts[fact_id]["derived"] = True

    def _build_province_counts(self) -> None:
        by_name = {name: code for code, name in self.provinces.items()}
        self.province_counts: dict[tuple[int, str, str], dict[str, Any]] = {}
        for row in self.province_count_rows:
            year = row.year("batch_year", low=FIRST_PROGRAMME_YEAR)
            province = by_name.get(row["province_name"])
            if province is None:
                raise row.error(f"unknown province {row['province_name']!r}")
            count = row.integer("counties_stated")
            if count is None:
                raise row.error("column 'counties_stated' is empty")
            source = row.required("source_url")
            if (year, province, source) in self.province_counts:
                raise row.error(f"{row['province_name']} {year} appears twice with the same source")
            self.province_counts[(year, province, source)] = {
                "year": year,
                "province": province,
                "count": count,
                "source": source,
                "source_kind": SourceKind.SECONDARY,
                "source_note": row["note"],
            }

    # -- writing ----------------------------------------------------------------------------

    def write(self) -> LoadReport:
        report = LoadReport()
        report.counts["provinces"], province_ids = _sync(
            "provinces",
            Province,
            ("code",),
            [
                {
                    "code": c,
                    "name_zh": n,
                    "name_pinyin": naming.pinyin_word(naming.PROVINCE_SHORT_NAMES[c][0]),
                    "name_en": naming.PROVINCE_NAMES_EN[c],
                    "short_name_zh": naming.PROVINCE_SHORT_NAMES[c][0],
                    "short_name_en": naming.PROVINCE_SHORT_NAMES[c][1],
                }
                for c, n in sorted(self.provinces.items())
            ],
        )
        report.counts["prefectures"], prefecture_ids = _sync(
            "prefectures",
            Prefecture,
            ("code",),
            [
                {
                    "code": c,
                    "name_zh": n,
                    "name_pinyin": naming.pinyin_name(n),
                    "name_en": naming.english_name(n),
                    "province_id": province_ids.get((p,), MISSING),
                }
                for c, (n, p) in sorted(self.prefectures.items())
            ],
        )
        unit_rows = []
        for values in self.units.values():
            row = dict(values)
            row["province_id"] = province_ids.get((row.pop("province"),), MISSING)
            prefecture = row.pop("prefecture")
            row["prefecture_id"] = prefecture_ids.get((prefecture,), MISSING) if prefecture else None
            unit_rows.append(row)
        report.counts["county-level units"], unit_ids = _sync("county-level units", Unit, ("key",), unit_rows, keep=_keep_checked_names)
        uid = {key[0]: pk for key, pk in unit_ids.items()}

        report.counts["code successions"], _ = _sync(
            "code successions",
            UnitSuccession,
            ("predecessor_id", "successor_code", "year"),
            [
                {"predecessor_id": uid.get(pred, MISSING), "successor_code": succ, "year": year, "successor_id": uid.get(succ), **v}
                for (pred, succ, year), v in sorted(self.successions.items())
            ],
        )
        report.lineage_rows_written = rebuild_lineage()

        # The list of the 832 before the statuses: a status is held to it.
        report.counts["the list of 832 poverty counties"], _ = _sync(
            "the list of 832 poverty counties",
            ListedPovertyCounty,
            ("unit_id",),
            [{"unit_id": uid.get(v["unit"], MISSING), "listed_name": v["listed_name"]} for v in self.poverty.values()],
        )
        report.counts["poverty-county statuses"], _ = _sync(
            "poverty-county statuses",
            PovertyStatus,
            ("unit_id",),
            [_with_ids(v, unit_id=uid.get(v["unit"], MISSING)) for v in self.poverty.values()],
        )
        # The files hold national batches: matched among those only, so that a province's own batch
        # of the same year and sequence is never taken for one of them.
        national = Batch.objects.filter(level=ProgrammeLevel.NATIONAL)
        report.counts["batches"], batch_ids = _sync("batches", Batch, ("year", "sequence"), list(self.batches.values()), among=national)
        report.counts["designations"], _ = _sync(
            "designations",
            Designation,
            ("unit_id", "batch_id"),
            [
                _with_ids(v, unit_id=uid.get(v["unit"], MISSING), batch_id=batch_ids.get(v["batch"], MISSING))
                for v in self.designations.values()
            ],
        )
        report.counts["programme figures"], _ = _sync("programme figures", ProgrammeFact, ("fact_id",), list(self.facts.values()))
        report.counts["published province counts"], _ = _sync(
            "published province counts",
            PublishedProvinceCount,
            ("year", "province_id", "source"),
            [_with_ids(v, province_id=province_ids.get((v["province"],), MISSING)) for v in self.province_counts.values()],
        )
        return report


def _with_ids(values: dict[str, Any], **ids: int) -> dict[str, Any]:
    """Replace the natural-key references ("unit", "batch") by the *_id values given."""
    names = {name.removesuffix("_id") for name in ids}
    return {k: v for k, v in values.items() if k not in names} | ids


def _first_year(spans: list[tuple[int, int | None]], first_in_window: int) -> int:
    """The first year of the unbroken run of use that covers `first_in_window`.

    The history keys records by (code, start year); a rename ends one record and starts the next
    in the same year, so walk back through records that join up.
    """
    spans = sorted(spans)
    start = None
    for begin, end in spans:
        if begin <= first_in_window and (end is None or end > first_in_window):
            start = begin
    if start is None:
        return first_in_window
    joined = True
    while joined:
        joined = False
        for begin, end in spans:
            if end == start and begin < start:
                start, joined = begin, True
    return start


def _unit_type(name: str, level: str) -> str:
    """The type of a unit the code history adds, which the history does not give: read from its
    name (the units file gives the types of the others)."""
    if level == "prefecture":
        return "prefecture-level city"
    for suffix, unit_type in (
        ("自治县", "autonomous county"),
        ("自治旗", "autonomous banner"),
        ("旗", "banner"),
        ("特区", "special district"),
        ("林区", "forestry district"),
        ("县", "county"),
        ("区", "district"),
        ("市", "county-level city"),
    ):
        if name.endswith(suffix):
            return unit_type
    raise ReferenceDataError(f"{FILES['history']}: cannot tell the type of {name}")


def _categories(row: Row) -> dict[str, Any]:
    key = row.choice("is_key_county_2012", {"", "0", "1"})
    area = row["contiguous_area_name"]
    if area in {"", "UNKNOWN"}:
        in_area, area_name = None, ""
    elif area == "UNSPECIFIED_AREA":
        in_area, area_name = True, ""
    else:
        in_area, area_name = True, area
    note = "; ".join(p for p in (row["note"], f"confidence: {row['confidence']}" if row["confidence"] else "") if p)
    return {
        "is_key_county_2012": None if key == "" else key == "1",
        "is_contiguous_area_county": in_area,
        "contiguous_area": area_name,
        "category_source": " — ".join(p for p in (row["source_url"], note) if p),
    }


def load_reference_data(directory: Path) -> LoadReport:
    loader = Loader(directory)
    loader.read()
    loader.build()
    try:
        with transaction.atomic():
            # Records stored before the feed began (a database older than it, the indicator catalogue
            # of a migration) enter it as created, before this load's own changes.
            fed = record_unfed()
            report = loader.write()
            if report.changed or fed:
                mark_data_changed()  # bulk writes send no signals
            record_initial_history("loaded from the reference data")
            return report
    except IntegrityError as exc:
        raise ReferenceDataError(f"the database refused the reference data: {exc}") from exc
    except (PovertyCountiesRefused, ReplacementBlocked) as exc:  # the rules every write is held to
        raise ReferenceDataError(f"the reference data breaks a rule of the registry: {exc}") from exc
