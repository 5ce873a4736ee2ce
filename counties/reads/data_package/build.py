"""Building the data package of the current data version, once, outside any request.

One consistent snapshot (one transaction; REPEATABLE READ on PostgreSQL) gives the data version,
the feed cursor and every public table, so the cursor a mirror starts from matches the rows. Each
table is read with `.iterator(chunk_size)` and each row goes at once into its CSV member of the zip
(hashed as it is written) and, in batches, into the SQLite file: memory stays bounded by the chunk
size, whatever the registry's size.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from counties.caching.token import DataState, stored_state
from counties.models import SourceKind
from counties.reads import tables as table_writer
from counties.reads.changes import current_cursor
from counties.reads.data_package import descriptor, store
from counties.reads.public_records import KINDS, PublicKind, public_record

CHUNK_SIZE = 2000
HASH_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class Built:
    version: store.Version
    wrote: bool  # False: the version was already built, nothing was written
    pruned: tuple[str, ...] = ()


def build(*, chunk_size: int = CHUNK_SIZE, keep: int | None = None) -> Built:
    """Builds the package of the current data version unless it is built already (then writes
    nothing), and prunes all but the `keep` newest versions (DATA_PACKAGE_KEEP)."""
    keep = settings.DATA_PACKAGE_KEEP if keep is None else keep
    with store.build_lock():
        store.remove_abandoned()
        with snapshot():
            state = stored_state()
            name = store.version_name(state)
            existing = store.read(name)
            if existing is not None:
                return Built(existing, wrote=False)
            cursor = current_cursor()
            work = store.temporary(name)
            work.mkdir()
            try:
                write_version(work, name, state, cursor, chunk_size)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
        store.publish(work, name)
        pruned = store.prune(keep)
    version = store.read(name)
    assert version is not None
    return Built(version, wrote=True, pruned=tuple(pruned))


@contextmanager
def snapshot() -> Iterator[None]:
    """One transaction that sees one state of the data. On PostgreSQL it is REPEATABLE READ and
    READ ONLY (READ COMMITTED would let a commit in the middle change the later tables); SQLite's
    transaction already reads one snapshot. Within an enclosing transaction (tests), that one's."""
    connection = transaction.get_connection()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class Hashing(io.RawIOBase):
    """A write-only stream that passes bytes on and counts and hashes them as they go."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.target.write(chunk)
        self.digest.update(chunk)
        self.size += len(chunk)
        return len(chunk)


def text_value(value: Any) -> Any:
    """A value as the CSV writes it (table_writer.text then makes text inert, as in every CSV)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def sql_value(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str):  # a bool is an int: 1 or 0
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, Decimal):
        return str(value)
    return text_value(value) if isinstance(value, date | datetime) else str(value)


def write_version(work: Path, name: str, state: DataState, cursor: Any, chunk_size: int) -> None:
    archive_name, database_name = f"registry-{name}.zip", f"registry-{name}.sqlite"
    resources, counted = [], []
    database = sqlite3.connect(work / database_name)
    try:
        database.execute("PRAGMA journal_mode=OFF")
        database.execute("PRAGMA synchronous=OFF")
        with zipfile.ZipFile(work / archive_name, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for kind in KINDS:
                table_name = descriptor.table_name(kind)
                columns = descriptor.columns(kind)
                create_table(database, table_name, descriptor.key_column(kind), columns)
                member = f"data/{table_name}.csv"
                with archive.open(member, "w", force_zip64=True) as raw:
                    hashing = Hashing(raw)
                    stream = io.TextIOWrapper(io.BufferedWriter(hashing, HASH_BLOCK), encoding="utf-8", newline="")
                    illustrative = [0]
                    rows = table_rows(kind, columns, database, table_name, chunk_size, illustrative)
                    count = table_writer.write_csv(stream, [c.name for c in columns], rows)
                    stream.flush()
                    stream.detach().flush()
                resources.append(
                    {
                        "name": table_name,
                        "path": member,
                        "profile": "tabular-data-resource",
                        "format": "csv",
                        "mediatype": "text/csv",
                        "encoding": "utf-8",
                        "bytes": hashing.size,
                        "hash": f"sha256:{hashing.digest.hexdigest()}",
                        "schema": descriptor.schema(kind),
                    }
                )
                counted.append(store.PackageTable(table_name, count, hashing.size, hashing.digest.hexdigest(), illustrative[0]))
            database.commit()
            built_at = timezone.now().astimezone(UTC).isoformat()
            changed_at = state.changed_at.astimezone(UTC).isoformat() if state.changed_at else None
            package = descriptor.descriptor(resources, version=name, changed_at=changed_at, cursor=cursor, built_at=built_at)
            archive.writestr("datapackage.json", json.dumps(package, ensure_ascii=False, indent=2))
            provenance = Path(settings.REFERENCE_DATA_DIR) / descriptor.PROVENANCE_FILE
            if provenance.is_file():
                archive.write(provenance, descriptor.PROVENANCE_FILE)
    finally:
        database.close()
    files = [file_entry(work / archive_name, "zip"), file_entry(work / database_name, "sqlite")]
    sums = "".join(f"{f.sha256}  {f.name}\n" for f in files)
    (work / store.CHECKSUMS).write_text(sums, encoding="utf-8")
    files.append(file_entry(work / store.CHECKSUMS, "sha256"))
    version = store.Version(name, state.token, state.changed_at, cursor, datetime.fromisoformat(built_at), tuple(files), tuple(counted))
    (work / store.MANIFEST).write_text(json.dumps(version.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")


def create_table(database: sqlite3.Connection, table_name: str, key: str, columns: list[descriptor.Column]) -> None:
    definitions = []
    for column in columns:
        definition = f'"{column.name}" {column.sql_type}'
        if column.name == key:
            definition += " PRIMARY KEY"
        elif column.required:
            definition += " NOT NULL"
        if column.references:
            definition += f' REFERENCES "{column.references[0]}" ("{column.references[1]}")'
        definitions.append(definition)
    database.execute(f'CREATE TABLE "{table_name}" ({", ".join(definitions)})')
    for column in columns:
        if column.references:  # what Datasette follows from a row to the one it names
            database.execute(f'CREATE INDEX "{table_name}_{column.name}" ON "{table_name}" ("{column.name}")')


def table_rows(
    kind: PublicKind,
    columns: list[descriptor.Column],
    database: sqlite3.Connection,
    table_name: str,
    chunk_size: int,
    illustrative: list[int],
) -> Iterator[list[Any]]:
    """Each public record as a CSV row, in the kind's order; the same rows go into the SQLite
    table in batches of `chunk_size` as they pass. `illustrative[0]` counts the illustrative ones."""
    insert = f'INSERT INTO "{table_name}" VALUES ({", ".join("?" * len(columns))})'
    batch: list[list[Any]] = []
    for obj in kind.queryset().iterator(chunk_size=chunk_size):
        record = public_record(obj)
        if record.get("source_kind") == SourceKind.ILLUSTRATIVE:
            illustrative[0] += 1
        values = [descriptor.value(record, column) for column in columns]
        batch.append([sql_value(v) for v in values])
        if len(batch) >= chunk_size:
            database.executemany(insert, batch)
            batch.clear()
        yield [text_value(v) for v in values]
    if batch:
        database.executemany(insert, batch)


def file_entry(path: Path, file_format: str) -> store.PackageFile:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return store.PackageFile(path.name, file_format, path.stat().st_size, digest.hexdigest())
