"""The data package: built once per data version from one snapshot, valid by the Frictionless
standard, the same rows in its CSVs, its SQLite file and the API, listed at /data/ and
/api/v1/data/, downloads with ETag and Content-Length, older versions kept for a while."""

import csv
import fcntl
import hashlib
import io
import json
import sqlite3
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.test import Client

from counties import models
from counties.reads import tables
from counties.reads.data_package import build, descriptor, store
from counties.reads.public_records import KINDS
from counties.writes import services

from .conftest import committed, manage, run_command

pytestmark = pytest.mark.django_db

# Each table the API lists, and the API's list for it.
API_LISTS = {
    "unit": "/api/v1/counties/",
    "batch": "/api/v1/batches/",
    "designation": "/api/v1/designations/",
    "funding": "/api/v1/funding-allocations/",
    "poverty_status": "/api/v1/poverty-statuses/",
    "indicator": "/api/v1/indicators/",
    "indicator_value": "/api/v1/indicator-values/",
    "assessment": "/api/v1/assessments/",
    "pairing": "/api/v1/pairings/",
}


@pytest.fixture
def package_dir(tmp_path, settings):
    settings.DATA_PACKAGE_DIR = tmp_path / "package"
    return settings.DATA_PACKAGE_DIR


def change_a_designation(note: str) -> None:
    designation = models.Designation.objects.order_by("pk").first()
    designation.name_as_reported = note
    with committed():
        services.save_record(designation, user=None, reason="data package test")


def members(version: store.Version) -> dict[str, bytes]:
    with zipfile.ZipFile(version.path(version.archive.name)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def typed(kind: str, value):
    """A cell, an SQLite value or an API value as one comparable value of its Table Schema type."""
    if value is None or value == "":
        return None
    if kind == "integer":
        return int(value)
    if kind == "number":
        return Decimal(str(value))
    if kind == "boolean":
        return value in (True, 1, "true")
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    return tables.uncell(value) if isinstance(value, str) else value


def csv_rows(data: bytes, columns: list[descriptor.Column]) -> list[tuple]:
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    assert next(reader) == [c.name for c in columns]  # one header row, the public fields in order
    return [tuple(typed(c.type, v) for c, v in zip(columns, row, strict=True)) for row in reader]


def api_rows(client: Client, url: str, columns: list[descriptor.Column]) -> list[tuple]:
    rows, page = [], f"{url}?page_size=1000"
    while page:
        answer = client.get(page).json()
        rows += [
            tuple(typed(c.type, descriptor.value(record, c)) if c.path[0] in record else None for c in columns)
            for record in answer["results"]
        ]
        page = answer["next"]
    return rows


def test_the_package_is_valid_by_the_frictionless_standard(package_dir):
    from frictionless import validate

    version = build.build().version
    report = validate(str(version.path(version.archive.name)))
    assert report.valid, report.flatten(["type", "message"])[:5]
    # Every table was read, its rows and its hash checked.
    assert [task.name for task in report.tasks] == [descriptor.table_name(k) for k in KINDS]
    assert sum(task.stats.get("rows", 0) for task in report.tasks) == sum(t.rows for t in version.tables) > 5500

    package = json.loads(members(version)["datapackage.json"])
    assert package["profile"] == "tabular-data-package"
    assert package["registry"] == {
        "data_version": version.name,
        "data_changed_at": version.data_changed_at.isoformat() if version.data_changed_at else None,
        "feed_cursor": version.feed_cursor,
    }
    assert [lic.get("name") for lic in package["licenses"]] == ["CC0-1.0", None]
    assert any("areacodes" in source["path"] for source in package["sources"])
    assert "PROVENANCE.md" in members(version)
    resources = {r["name"]: r for r in package["resources"]}
    designation = resources["designation"]["schema"]
    assert designation["primaryKey"] == ["id"]
    assert {"fields": "unit", "reference": {"resource": "unit", "fields": "key"}} in designation["foreignKeys"]
    assert {"fields": "batch", "reference": {"resource": "batch", "fields": "id"}} in designation["foreignKeys"]
    for resource in resources.values():
        for field in resource["schema"]["fields"]:
            assert field["description"] and field["type"], (resource["name"], field)
    amount = next(f for f in resources["funding"]["schema"]["fields"] if f["name"] == "amount")
    assert (amount["type"], amount["title"]) == ("number", "Amount (yuan)")
    assert amount["description"].startswith("Amount (yuan) / ")  # English, then the Chinese catalogue's words


def test_a_changed_csv_fails_the_validation(package_dir, tmp_path):
    """The validation can fail: a CSV edited after the build no longer matches its hash."""
    from frictionless import validate

    version = build.build().version
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, data in members(version).items():
            archive.writestr(name, data.replace("东城区".encode(), "西城区".encode()) if name == "data/unit.csv" else data)
    report = validate(str(tampered))
    assert not report.valid
    assert {error[0] for error in report.flatten(["type"])} == {"hash-count"}


def test_csv_sqlite_and_api_give_the_same_rows(package_dir, client):
    version = build.build().version
    files = members(version)
    database = sqlite3.connect(version.path(version.database.name))
    checked = []
    for kind in KINDS:
        name = descriptor.table_name(kind)
        columns = descriptor.columns(kind)
        from_csv = csv_rows(files[f"data/{name}.csv"], columns)
        from_sqlite = [
            tuple(typed(c.type, v) for c, v in zip(columns, row, strict=True))
            for row in database.execute(f'SELECT * FROM "{name}" ORDER BY rowid')
        ]
        assert from_csv == from_sqlite, name
        assert len(from_csv) == kind.queryset().count() == next(t.rows for t in version.tables if t.name == name)
        if name in API_LISTS:
            key = [c.name for c in columns].index(descriptor.key_column(kind))
            from_api = {row[key]: row for row in api_rows(client, API_LISTS[name], columns)}
            assert set(from_api) == {row[key] for row in from_csv}, name
            for row in from_csv:
                # The fields the API shows under the same name hold the same values.
                api_row = from_api[row[key]]
                assert [a for a, c in zip(api_row, row, strict=True) if a is not None] == [
                    c for a, c in zip(api_row, row, strict=True) if a is not None
                ], (name, row[key])
            checked.append(name)
    database.close()
    assert checked == [n for n in (descriptor.table_name(k) for k in KINDS) if n in API_LISTS]
    # Worked out by hand: 3,055 county-level units (3,052 codes and the 3 code-less Qinghai
    # units), 832 poverty counties, 7 batches.
    counts = {t.name: t.rows for t in version.tables}
    assert (counts["unit"], counts["poverty_status"], counts["batch"]) == (3078, 832, 8)


def test_no_staff_field_is_in_any_table(package_dir):
    version = build.build().version
    staff = {"reason", "history", "user", "token", "import", "snapshot", "kept"}
    # A withdrawal's reason is the record's own, published with it (the county page shows it), not
    # the reason a staff member gave for a change.
    public = {("lifecycle_record", "reason")}
    database = sqlite3.connect(version.path(version.database.name))
    names = [row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for name in names:
        columns = [row[1] for row in database.execute(f'PRAGMA table_info("{name}")')]
        assert not [c for c in columns if any(word in c for word in staff) and (name, c) not in public], name
    database.close()
    assert not [n for n in names if any(word in n for word in staff)]
    package_models = {k.model for k in KINDS}
    assert not package_models & {models.ImportRecord, models.StaffProfile, models.ApiToken, models.KeptImport, models.ReferenceSnapshot}


def test_a_second_build_of_an_unchanged_version_writes_nothing(package_dir):
    first = build.build()
    assert first.wrote
    written = {path: path.stat().st_mtime_ns for path in package_dir.rglob("*")}
    second = build.build()
    assert not second.wrote
    assert second.version == first.version
    assert {path: path.stat().st_mtime_ns for path in package_dir.rglob("*")} == written
    assert "Nothing to build" in run_command("build_data_package")


def test_a_write_makes_a_new_version_and_the_older_one_stays_downloadable(package_dir, client):
    old = build.build().version
    change_a_designation("data package: changed")
    new = build.build().version
    assert new.name != old.name and new.data_version != old.data_version
    assert [v.name for v in store.versions()] == [new.name, old.name]
    # The new version holds the change, the old one does not.
    assert "data package: changed" in members(new)["data/designation.csv"].decode()
    assert "data package: changed" not in members(old)["data/designation.csv"].decode()
    response = client.get(f"/data/{old.name}/{old.archive.name}")
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == old.archive.sha256
    page = client.get("/en/data/").content.decode()
    assert page.index(new.name) < page.index(old.name)
    # Only the `keep` newest are kept: the oldest goes.
    change_a_designation("data package: changed again")
    newest = build.build(keep=2)
    assert newest.pruned == (old.name,)
    assert client.get(f"/data/{old.name}/{old.archive.name}").status_code == 404
    assert [v.name for v in store.versions()] == [newest.version.name, new.name]


def test_a_download_carries_its_checksum_as_etag_and_its_length(package_dir, client):
    version = build.build().version
    for entry in version.files:
        response = client.get(f"/data/{version.name}/{entry.name}")
        assert response.status_code == 200
        assert response["ETag"] == f'"{entry.sha256}"'
        assert int(response["Content-Length"]) == entry.bytes == version.path(entry.name).stat().st_size
        content = b"".join(response.streaming_content)
        assert hashlib.sha256(content).hexdigest() == entry.sha256
        assert client.get(f"/data/{version.name}/{entry.name}", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    sums = version.path(store.CHECKSUMS).read_text()
    assert f"{version.archive.sha256}  {version.archive.name}\n" in sums
    assert client.get(f"/data/{version.name}/manifest.json").status_code == 404  # only the listed files
    assert client.get(f"/data/{version.name}/..%2fmanifest.json").status_code == 404


def test_before_any_build_the_page_and_the_api_say_so(package_dir, client):
    page = client.get("/en/data/")
    assert page.status_code == 503 and page["Retry-After"] == "60"
    assert "is not built yet" in page.content.decode()
    api = client.get("/api/v1/data/")  # an index with nothing in it yet
    assert api.status_code == 200 and api["Retry-After"] == "60"
    assert (api.json()["versions"], api.json()["current_built"]) == ([], False)


def test_while_the_current_version_is_built_the_earlier_one_is_offered_and_marked(package_dir, client):
    old = build.build().version
    change_a_designation("data package: not built yet")
    page = client.get("/en/data/")
    assert page.status_code == 200
    assert "The newest package below is of an earlier version." in page.content.decode()
    assert "Illustrative data." in page.content.decode()  # the packages hold the illustrative roster
    answer = client.get("/api/v1/data/")
    assert answer["Retry-After"] == "60"
    index = answer.json()
    tables = {t["name"]: t for t in index["versions"][0]["tables"]}
    assert tables["designation"]["illustrative"] == models.Designation.objects.filter(source_kind="illustrative").count() > 0
    assert index["current_built"] is False and index["current"] != old.name
    assert [v["name"] for v in index["versions"]] == [old.name]
    assert index["versions"][0]["current"] is False
    assert index["versions"][0]["files"][0]["url"].endswith(f"/data/{old.name}/{old.archive.name}")


def test_the_listing_revalidates_by_its_own_etag(package_dir, client):
    build.build()
    first = client.get("/api/v1/data/")
    assert first.status_code == 200 and "no-cache" in first["Cache-Control"]
    assert client.get("/api/v1/data/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    page = client.get("/data/")
    assert client.get("/data/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304
    # A build changes the listing without changing the data token: the old ETag no longer matches.
    change_a_designation("data package: etag")
    build.build()
    assert client.get("/api/v1/data/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_two_builders_never_hold_the_lock_together(package_dir):
    with store.build_lock(), open(package_dir / store.LOCK, "a+b") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(package_dir / store.LOCK, "a+b") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again


def test_an_abandoned_build_is_cleared_and_never_listed(package_dir):
    package_dir.mkdir(parents=True)
    abandoned = store.temporary("20200101T000000Z-000000000000")
    abandoned.mkdir()
    (abandoned / "partial.zip").write_bytes(b"PK")
    assert store.versions() == []
    build.build()
    assert not abandoned.exists()
    assert len(store.versions()) == 1


def test_the_command_builds_once(package_dir):
    output = run_command("build_data_package")
    version = store.versions()[0]
    assert f"Built data version {version.name}: {len(KINDS)} tables" in output
    assert version.archive.sha256 in output


def test_the_directory_setting_is_validated():
    result = manage("check", DEBUG="1", DATA_PACKAGE_DIR="relative/path")
    assert result.returncode != 0
    assert "DATA_PACKAGE_DIR must be an absolute path" in result.stderr
    result = manage("check", DEBUG="1", DATA_PACKAGE_KEEP="0")
    assert result.returncode != 0
    assert "DATA_PACKAGE_KEEP must be a positive number of versions, got 0" in result.stderr


def test_the_listing_costs_the_same_queries_for_one_version_or_three(package_dir, client, django_assert_num_queries):
    """The versions come from the shared directory, not the database: the data token (read once
    by the response cache's middleware, and pinned for the view) is the only query."""
    build.build()
    with django_assert_num_queries(1):
        assert client.get("/en/data/").status_code == 200
    for note in ("one", "two"):
        change_a_designation(f"data package: {note}")
        build.build()
    assert len(store.versions()) == 3
    with django_assert_num_queries(1):
        assert client.get("/en/data/").status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/api/v1/data/").status_code == 200
