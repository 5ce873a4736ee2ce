"""Where the built data packages live: one directory per data version under DATA_PACKAGE_DIR,
shared by every app instance (a volume), each holding the zip, the SQLite file, SHA256SUMS and a
`manifest.json` that /data/ and the API read.

A version's directory appears whole or not at all: the builder writes it under a temporary name
and renames it (`os.rename` of a directory is atomic on one file system). Builders take a file
lock first (`build_lock`), so two never write one version, and only the lock holder prunes: a
download already under way keeps reading a pruned file (its open handle outlives the unlink).
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from counties.caching.token import DataState

MANIFEST = "manifest.json"
MEDIA_TYPES = {"zip": "application/zip", "sqlite": "application/vnd.sqlite3", "sha256": "text/plain; charset=utf-8"}
CHECKSUMS = "SHA256SUMS"
LOCK = ".build.lock"
TEMPORARY = ".building-"


@dataclass(frozen=True)
class PackageFile:
    name: str
    format: str  # zip, sqlite, sha256
    bytes: int
    sha256: str


@dataclass(frozen=True)
class PackageTable:
    name: str
    rows: int
    csv_bytes: int
    csv_sha256: str
    illustrative: int = 0  # rows whose source_kind is illustrative


@dataclass(frozen=True)
class Version:
    name: str
    data_version: str
    data_changed_at: datetime | None
    feed_cursor: Any
    built_at: datetime
    files: tuple[PackageFile, ...]
    tables: tuple[PackageTable, ...]

    def file(self, name: str) -> PackageFile | None:
        return next((f for f in self.files if f.name == name), None)

    def of_format(self, file_format: str) -> PackageFile:
        return next(f for f in self.files if f.format == file_format)

    @property
    def includes_illustrative(self) -> bool:
        return any(table.illustrative for table in self.tables)

    @property
    def archive(self) -> PackageFile:
        return self.of_format("zip")

    @property
    def database(self) -> PackageFile:
        return self.of_format("sqlite")

    def path(self, name: str) -> Path:
        return root() / self.name / name

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "data_version": self.data_version,
            "data_changed_at": self.data_changed_at.isoformat() if self.data_changed_at else None,
            "feed_cursor": self.feed_cursor,
            "built_at": self.built_at.isoformat(),
            "files": [vars(f) for f in self.files],
            "tables": [vars(t) for t in self.tables],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Version:
        changed = data["data_changed_at"]
        return cls(
            name=data["name"],
            data_version=data["data_version"],
            data_changed_at=datetime.fromisoformat(changed) if changed else None,
            feed_cursor=data["feed_cursor"],
            built_at=datetime.fromisoformat(data["built_at"]),
            files=tuple(PackageFile(**f) for f in data["files"]),
            tables=tuple(PackageTable(**t) for t in data["tables"]),
        )


def root() -> Path:
    return Path(settings.DATA_PACKAGE_DIR)


def version_name(state: DataState) -> str:
    """The directory (and file-name stem) of a data version: when it changed and its token, e.g.
    `20261206T111041Z-3f9a2c1e5b7d`; `initial` before any change was recorded."""
    if state.changed_at is None:
        return "initial"
    return f"{state.changed_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{state.token[:12]}"


def read(name: str) -> Version | None:
    """The built version `name`, or None (never built, pruned, or not a version's name)."""
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        return None
    try:
        return Version.from_json(json.loads((root() / name / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def versions() -> list[Version]:
    """Every built version, the newest build first."""
    try:
        names = [entry.name for entry in root().iterdir() if entry.is_dir() and not entry.name.startswith(".")]
    except FileNotFoundError:
        return []
    found = [v for v in map(read, names) if v is not None]
    return sorted(found, key=lambda v: (v.built_at, v.name), reverse=True)


@contextmanager
def build_lock() -> Iterator[None]:
    """Held while a builder checks, writes and prunes; a second builder waits for it (and then
    finds the version built). An advisory lock on a file in the shared directory."""
    directory = root()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def temporary(name: str) -> Path:
    return root() / f"{TEMPORARY}{name}"


def remove_abandoned() -> None:
    """A builder that died left its temporary directory: only the lock holder calls this, so any
    temporary directory found is abandoned."""
    for entry in root().glob(f"{TEMPORARY}*"):
        shutil.rmtree(entry, ignore_errors=True)


def publish(temporary_dir: Path, name: str) -> None:
    temporary_dir.rename(root() / name)


def prune(keep: int) -> list[str]:
    """Removes all but the `keep` newest versions; returns the names removed."""
    removed = []
    for version in versions()[keep:]:
        shutil.rmtree(root() / version.name, ignore_errors=True)
        removed.append(version.name)
    return removed


@dataclass(frozen=True)
class Listing:
    """What /data/ shows: the current data version's name and every version built, newest first."""

    current: str
    versions: list[Version]

    @property
    def current_built(self) -> bool:
        return any(v.name == self.current for v in self.versions)


def listing(state: DataState) -> Listing:
    return Listing(version_name(state), versions())
