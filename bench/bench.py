"""Read benchmark (`make bench`): the registry under gunicorn with production settings, beside a
bare WSGI app serving the same bytes and Datasette serving the same SQLite file; then cold
timings on the reference data and on ten times as much.

    make bench                                             # SQLite (a throwaway file)
    DATABASE_URL=postgres://…/scratch make bench           # SQLite, then PostgreSQL (emptied first)
    BENCH_SECONDS=10 make bench                            # longer load runs (default 5 s each)
    BENCH_WORKERS=2 make bench                             # gunicorn workers (default 3, the image's)

What it does, for each database (SQLite always; PostgreSQL when DATABASE_URL names one, whose
contents it DROPS: point it only at a scratch database):

1. Builds the database: migrations, reference data, illustrative roster (`manage.py` commands).
2. Starts the site under gunicorn (3 sync workers, as the production image runs it; DEBUG off,
   a random SECRET_KEY, collected static files, the cache in Redis DB 4 when Redis answers, else
   per-process memory; the API's anonymous rate limit raised so the load generator is not
   throttled), sends each request twice to warm it, captures each response, then measures it
   with wrk (16 connections, 2 threads): **cached** = these repeated identical requests, whatever the site caches.
3. Serves the captured bytes from a bare WSGI app under the same gunicorn settings, and
   (SQLite) the same database file with Datasette (`datasette serve -i`, one process, its
   defaults), both measured the same way.
4. **Edit**, **first after an edit** and **cold**, in-process (Django test client, the same
   headers): before each read, an edit request as a partner makes it (`PATCH` of a designation
   with a token and a reason: the write, its history and, after the commit, a new data token;
   nothing is worked out for the readers). Then the first read after it, as another instance
   makes it (`counties.reads.statistics.forget_loaded_rows()`: nothing kept in the process): it
   works out what it needs under the new token and stores it in the shared cache. Then the cold
   read: another instance again, the response not cached (the response cache is off for it, as
   every response cached under the old token is stale), the derived data found in the cache.
   15 requests each: the best wall time (the goals are judged on it: on a shared machine the
   least disturbed run is the closest to a quiet machine's), the median wall time, the median
   CPU time, the queries.
5. Adds generated data up to 30,000 units and 12,000 designations (with poverty statuses and
   code successions in proportion) and repeats the cold timings and edits: the growth columns.

Requests are anonymous and made as a browser (pages, exports: a browser's Accept,
Accept-Language and User-Agent, no cookies) or an API partner (Accept: application/json) makes
them. It prints one table and writes it to bench/results/latest.md. The machine may be shared:
only ratios within one run mean anything.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results"
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
DATASETTE = ROOT / "bench" / ".venv-datasette" / "bin" / "datasette"
HOST = "127.0.0.1"
SITE_PORT, BARE_PORT, DATASETTE_PORT = (int(p) for p in os.environ.get("BENCH_PORTS", "8120,8121,8122").split(","))
# The production image's worker count (Dockerfile: WEB_CONCURRENCY=3), for the site and the bare
# app alike. A worker waiting on Redis leaves its core to another; with fewer workers than that,
# the site spends the round trip idle where the bare app, which waits on nothing, does not.
WORKERS = int(os.environ.get("BENCH_WORKERS", 3))
CONNECTIONS = 16
THREADS = 2
REPEATS = int(os.environ.get("BENCH_REPEATS", 15))
UNITS_10X, DESIGNATIONS_10X = 30_000, 12_000

BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate, br",
}
BROWSER_ZH = {**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
BROWSER_EN = {**BROWSER, "Accept-Language": "en-US,en;q=0.9"}
PARTNER = {"User-Agent": "registry-partner/1.0", "Accept": "application/json", "Accept-Encoding": "gzip"}


@dataclass(frozen=True)
class Probe:
    name: str
    path: str
    headers: dict[str, str]
    cold_goal_ms: float | None = None
    datasette: str | None = None  # the equivalent Datasette request: "json" or "html"
    output_grows: bool = False  # an export of 10x the rows: its growth is not held to the goal


PROBES = [
    Probe("API list, province, 50 rows", "/api/v1/counties/?province=530000&page_size=50", PARTNER, 8, "json"),
    Probe("API list, unfiltered, 50 rows", "/api/v1/counties/", PARTNER, 8),
    Probe("API detail", "/api/v1/counties/130705/", PARTNER),
    Probe("API statistics (coverage)", "/api/v1/stats/coverage/?as_of=2019", PARTNER),
    Probe("statistics page", "/statistics/", BROWSER_ZH),
    Probe("faceted list page, zh", "/counties/?province=530000", BROWSER_ZH, 15, "html"),
    Probe("faceted list page, en", "/en/counties/?province=530000", BROWSER_EN, 15),
    Probe("county page", "/counties/130705/", BROWSER_ZH),
    Probe("CSV export", "/counties/export.csv?province=530000", BROWSER_ZH, output_grows=True),
    Probe("XLSX export", "/counties/export.xlsx?province=530000", BROWSER_ZH, output_grows=True),
]
GOAL_BARE, GOAL_DATASETTE, GOAL_GROWTH = 0.5, 3.0, 2.0
GOAL_EDIT_MS, GOAL_EDIT_GROWTH = 30.0, 1.5
EDIT = "edit"  # the cold timings' key for what the edit requests before them cost
FIRST = "first"  # a probe's figures for the first read after an edit, which works out what it needs


# -- the environment the site runs in -------------------------------------------------------------


def redis_answers(url: str) -> bool:
    match = re.match(r"redis://([^:/]+):(\d+)", url)
    if not match:
        return False
    try:
        with socket.create_connection((match[1], int(match[2])), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def site_env(database_url: str, cache_url: str) -> dict[str, str]:
    """Production settings (DEBUG off) for a site on plain HTTP on loopback."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": f"{HOST},localhost,testserver",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "STATIC_ROOT": str(WORK / "static"),
        # No TLS on loopback: no redirect to https, no secure-only cookies.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        # The load generator is one client: the anonymous rate limits would answer it with 429s.
        "API_ANON_RATE": "100000000/minute",
        "EXPORT_ANON_RATE": "100000000/minute",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def reset_postgresql(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def build_database(env: dict[str, str]) -> None:
    manage(env, "migrate", "--noinput")
    manage(env, "load_reference_data")
    manage(env, "load_illustrative_roster")


class Server:
    """A process listening on a port, stopped (its process group) on exit."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log.open("w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited; see {log}")
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{command[0]} did not listen on port {port}; see {log}")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def gunicorn(app: str, env: dict[str, str], port: int, log: Path) -> Server:
    command = [str(GUNICORN), app, "--bind", f"{HOST}:{port}", "--workers", str(WORKERS), "--worker-class", "sync", "--timeout", "60"]
    command.append("--no-control-socket")  # gunicorn's default socket is one path shared by every instance on the machine
    return Server(command, env, port, log)


# -- load runs ----------------------------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(port: int, target: str, headers: dict[str, str], seconds: int) -> Load:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, f"http://{HOST}:{port}{target}"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # 0 when nothing was answered within the run
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", output)[1])
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", output)[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx[1]) if non_2xx else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return Load(rps, p50, p99, errors)


def fetch(port: int, target: str, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(f"http://{HOST}:{port}{target}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, reason, raw_headers, body = response.status, response.reason, response.getheaders(), response.read()
    except urllib.error.HTTPError as error:
        status, reason, raw_headers, body = error.code, error.reason, error.headers.items(), error.read()
    hop = {"connection", "keep-alive", "transfer-encoding", "date", "server", "content-length"}
    kept = [(k, v) for k, v in raw_headers if k.lower() not in hop] + [("Content-Length", str(len(body)))]
    return {"status": status, "reason": reason, "headers": kept, "body": base64.b64encode(body).decode(), "bytes": len(body)}


# -- in-process cold timings (run in a child process with the site's environment) -----------------


def cold_timings(out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client, override_settings

    from counties.models import ApiToken, Designation
    from counties.reads.statistics import forget_loaded_rows

    queries = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[0] += 1
        return execute(sql, params, many, context)

    def timed(call: Any) -> tuple[Any, float, float, int]:
        queries[0] = 0
        with connection.execute_wrapper(count):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = call()
            wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
        return result, wall, cpu, queries[0]

    # The writer: a partner's token (a superuser's: every province) changing one designation.
    user, _ = get_user_model().objects.get_or_create(username="bench-writer", defaults={"is_staff": True, "is_superuser": True})
    _token, key = ApiToken.issue(user, "benchmark", can_write=True)
    writer = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT="application/json", HTTP_X_CHANGE_REASON="benchmark edit")
    edited = Designation.objects.order_by("pk").values_list("pk", flat=True).first()
    edits = [0]

    def edit() -> Any:
        edits[0] += 1
        change = {"name_as_reported": f"benchmark {edits[0]}"}
        return writer.patch(f"/api/v1/designations/{edited}/", change, content_type="application/json")

    results = {}
    edit_wall, edit_cpu = [], []
    for probe in PROBES:
        client = Client(**{"HTTP_" + name.upper().replace("-", "_"): value for name, value in probe.headers.items()})
        for _ in range(2):  # templates compiled, connection open: a running worker's state
            assert client.get(probe.path).status_code == 200, probe.path

        def read(client: Any = client, path: str = probe.path) -> Any:
            return client.get(path)

        first: dict[str, list[float]] = {"wall": [], "cpu": []}
        wall, cpu, repeat = [], [], []
        for _ in range(REPEATS):
            # The edit: the whole request that writes (authentication, scope, the row lock, the
            # write, its history, the new data token after the commit).
            response, ms, cpu_ms, edit_queries = timed(edit)
            assert response.status_code == 200, response.content[:300]
            edit_wall.append(ms)
            edit_cpu.append(cpu_ms)
            # The first read after it, as another instance makes it: nothing kept in this process;
            # it works out what it needs under the new token and stores it in the shared cache.
            forget_loaded_rows()
            response, ms, cpu_ms, first_queries = timed(read)
            assert response.status_code == 200, probe.path
            first["wall"].append(ms)
            first["cpu"].append(cpu_ms)
            # A cold read: another instance again, the response not cached (new token), what the
            # first read worked out found in the shared cache.
            forget_loaded_rows()
            with override_settings(RESPONSE_CACHE=False):
                response, ms, cpu_ms, cold_queries = timed(read)
            assert response.status_code == 200, probe.path
            wall.append(ms)
            cpu.append(cpu_ms)
            started = time.perf_counter()
            client.get(probe.path)
            repeat.append((time.perf_counter() - started) * 1000)
        results[probe.path] = {
            "ms": statistics.median(wall),
            "min_ms": min(wall),
            "cpu_ms": statistics.median(cpu),
            "repeat_ms": statistics.median(repeat),
            "queries": cold_queries,
            FIRST: {
                "ms": statistics.median(first["wall"]),
                "min_ms": min(first["wall"]),
                "cpu_ms": statistics.median(first["cpu"]),
                "repeat_ms": None,
                "queries": first_queries,
            },
        }
    results[EDIT] = {
        "ms": statistics.median(edit_wall),
        "min_ms": min(edit_wall),
        "cpu_ms": statistics.median(edit_cpu),
        "repeat_ms": None,
        "queries": edit_queries,
    }
    out.write_text(json.dumps(results))


def grow() -> None:
    """Add generated units, successions, poverty statuses and designations up to 30,000 units
    and 12,000 designations, in proportion to the reference data. Written in bulk (benchmark
    data, no history), then the lineage is rebuilt and the data token bumped by the services."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import F

    from counties.models import (
        Batch,
        Designation,
        ParentType,
        PovertyStatus,
        Prefecture,
        Province,
        Region,
        SourceKind,
        SuccessionKind,
        Unit,
        UnitSuccession,
        UnitType,
    )
    from counties.writes import services

    rng = random.Random(12)
    factor = UNITS_10X / Unit.objects.count()
    used = set(Unit.objects.values_list("key", flat=True))
    provinces = list(Province.objects.order_by("code"))
    prefectures: dict[int, list[int]] = {}
    for pk, province in Prefecture.objects.values_list("pk", "province_id"):
        prefectures.setdefault(province, []).append(pk)
    with transaction.atomic():
        new_units = []
        for i in range(UNITS_10X - len(used)):
            province = provinces[i % len(provinces)]
            while True:
                code = f"{province.code[:2]}{rng.randrange(101, 10000):04d}"
                if code not in used and not code.endswith("00"):
                    break
            used.add(code)
            new_units.append(
                Unit(
                    key=code,
                    code=code,
                    name_zh=f"基准{i}县",
                    name_pinyin=f"Jizhun {i} Xian",
                    name_en=f"Jizhun {i} County",
                    unit_type=rng.choice([UnitType.COUNTY, UnitType.COUNTY, UnitType.DISTRICT, UnitType.COUNTY_LEVEL_CITY]),
                    province=province,
                    prefecture_id=rng.choice(prefectures.get(province.pk, [None])),
                    parent_type=ParentType.PREFECTURE,
                    first_year=2000,
                )
            )
        Unit.objects.bulk_create(new_units, batch_size=2000)
        generated = Unit.objects.filter(name_zh__startswith="基准")
        # Each is its own current unit (in one UPDATE; rebuild_lineage then changes the retired ones).
        generated.update(current_id=F("pk"))
        new_units = list(generated.order_by("pk"))
        # Code changes in proportion: a share of the new units retired in 2017 into another.
        retiring = int(UnitSuccession.objects.filter(is_primary=True).count() * (factor - 1))
        retired, kept = new_units[:retiring], new_units[retiring:]
        Unit.objects.filter(pk__in=[u.pk for u in retired]).update(last_year=2016)
        for unit in retired:
            unit.last_year = 2016
        UnitSuccession.objects.bulk_create(
            [
                UnitSuccession(predecessor=u, successor=s, successor_code=s.key, year=2017, kind=SuccessionKind.REPLACED, is_primary=True)
                for u, s in zip(retired, rng.sample(kept, len(retired)), strict=True)
            ],
            batch_size=2000,
        )
        poverty = int(PovertyStatus.objects.count() * (factor - 1))
        PovertyStatus.objects.bulk_create(
            [
                PovertyStatus(
                    unit=u,
                    region=rng.choice(Region.values),
                    exit_year=rng.choice([2016, 2017, 2018, 2019, 2020]),
                    listed_name=u.name_zh,
                    source="benchmark",
                    source_kind=SourceKind.ILLUSTRATIVE,
                )
                for u in rng.sample(new_units, poverty)
            ],
            batch_size=2000,
        )
        batches = list(Batch.objects.all())
        pairs: set[tuple[int, int]] = set()
        designations = []
        while len(designations) < DESIGNATIONS_10X - Designation.objects.count():
            unit, batch = rng.choice(new_units), rng.choice(batches)
            if (unit.pk, batch.pk) in pairs or (unit.last_year is not None and batch.year > unit.last_year):
                continue
            pairs.add((unit.pk, batch.pk))
            designations.append(Designation(unit=unit, batch=batch, source="benchmark", source_kind=SourceKind.ILLUSTRATIVE))
        Designation.objects.bulk_create(designations, batch_size=2000)
        services.rebuild_lineage()
        services.mark_data_changed()
    # The planner's statistics, as autovacuum (PostgreSQL) would gather them on a database that
    # grew to this size: without them it plans for the reference data's row counts.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"{Unit.objects.count()} units, {Designation.objects.count()} designations, {PovertyStatus.objects.count()} poverty statuses, "
        f"{UnitSuccession.objects.filter(is_primary=True).count()} primary successions"
    )


def child(phase: str, env: dict[str, str], *args: str) -> None:
    subprocess.run([str(PYTHON), str(Path(__file__)), phase, *args], cwd=ROOT, env=env, check=True)


# -- one database -------------------------------------------------------------------------------


@dataclass
class Row:
    probe: Probe
    registry: Load | None = None
    bare: Load | None = None
    datasette: Load | None = None
    datasette_target: str = ""
    bytes: int = 0
    cold: dict[str, Any] = field(default_factory=dict)
    cold_10x: dict[str, Any] = field(default_factory=dict)


def run_engine(engine: str, database_url: str, cache_url: str, seconds: int) -> tuple[list[Row], str, dict[str, dict[str, Any]]]:
    env = site_env(database_url, cache_url)
    logs = WORK / engine
    logs.mkdir(parents=True, exist_ok=True)
    say(f"[{engine}] building the database")
    build_database(env)
    rows = [Row(p) for p in PROBES]
    captured: dict[str, Any] = {}
    say(f"[{engine}] the site under gunicorn: warm, capture, measure (cached)")
    with gunicorn("registry.wsgi", env, SITE_PORT, logs / "site.log"):
        for row in rows:
            for _ in range(2):
                response = fetch(SITE_PORT, row.probe.path, row.probe.headers)
            if response["status"] != 200:
                raise RuntimeError(f"{row.probe.path} answered {response['status']}: {base64.b64decode(response['body'])[:300]!r}")
            captured[row.probe.path] = response
            row.bytes = response["bytes"]
        for row in rows:
            row.registry = wrk(SITE_PORT, row.probe.path, row.probe.headers, seconds)
    capture = logs / "captured.json"
    capture.write_text(json.dumps(captured))
    say(f"[{engine}] the bare WSGI app serving the same bytes")
    with gunicorn("bench.bare_wsgi:app", {**env, "BENCH_CAPTURE": str(capture)}, BARE_PORT, logs / "bare.log"):
        for row in rows:
            assert fetch(BARE_PORT, row.probe.path, row.probe.headers)["body"] == captured[row.probe.path]["body"]
            row.bare = wrk(BARE_PORT, row.probe.path, row.probe.headers, seconds)
    if engine == "sqlite":
        say(f"[{engine}] Datasette serving the same file")
        run_datasette(database_url, rows, seconds, logs)
    say(f"[{engine}] cold timings, reference data")
    out = logs / "cold-1x.json"
    child("_cold", env, str(out))
    cold = json.loads(out.read_text())
    for row in rows:
        row.cold = cold[row.probe.path]
    edits = {"1x": cold[EDIT]}
    say(f"[{engine}] generating 10x data")
    grow_output = subprocess.run(
        [str(PYTHON), str(Path(__file__)), "_grow"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    say(f"[{engine}] cold timings, 10x data ({grow_output})")
    out = logs / "cold-10x.json"
    child("_cold", env, str(out))
    cold = json.loads(out.read_text())
    for row in rows:
        row.cold_10x = cold[row.probe.path]
    edits["10x"] = cold[EDIT]
    return rows, grow_output, edits


def run_datasette(database_url: str, rows: list[Row], seconds: int, logs: Path) -> None:
    if not DATASETTE.exists():
        raise RuntimeError(f"Datasette is not installed at {DATASETTE}: run `make bench`, which installs it")
    path = Path(database_url.removeprefix("sqlite:///"))
    import sqlite3

    with sqlite3.connect(path) as db:
        province = db.execute("SELECT id FROM counties_province WHERE code = '530000'").fetchone()[0]
    name = path.stem
    targets = {
        # The API list's equivalent: 50 units of the province as JSON, foreign keys labelled.
        "json": f"/{name}/counties_unit.json?province_id={province}&_size=50&_labels=on",
        # The faceted page's equivalent: the same rows as HTML with two facets.
        "html": f"/{name}/counties_unit?province_id={province}&_size=50&_labels=on&_facet=unit_type&_facet=prefecture_id",
    }
    command = [str(DATASETTE), "serve", "-i", str(path), "--host", HOST, "--port", str(DATASETTE_PORT)]
    with Server(command, {**os.environ}, DATASETTE_PORT, logs / "datasette.log"):
        for row in rows:
            if row.probe.datasette:
                target = targets[row.probe.datasette]
                headers = row.probe.headers
                for _ in range(2):
                    response = fetch(DATASETTE_PORT, target, headers)
                if response["status"] != 200:
                    raise RuntimeError(f"Datasette answered {response['status']} to {target}")
                row.datasette, row.datasette_target = wrk(DATASETTE_PORT, target, headers, seconds), target


# -- the table ----------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "–" if value is None else f"{value:,.{digits}f}{suffix}"


def mark(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "NOT met")


def table(results: dict[str, list[Row]]) -> tuple[str, list[tuple[str, str, bool]]]:
    lines = [
        "| db | request | registry req/s (p50 ms) | bare WSGI req/s | registry / bare | Datasette req/s | registry / Datasette "
        "| cold 1x ms: best (median, CPU, queries) | cold 10x ms: best (median, CPU, queries) | 10x / 1x "
        "| first after an edit 1x ms | first after an edit 10x ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    goals: list[tuple[str, str, bool]] = []
    for engine, rows in results.items():
        for row in rows:
            reg = row.registry
            vs_bare = ratio(reg.rps, row.bare.rps)
            vs_datasette = ratio(reg.rps, row.datasette.rps if row.datasette else None)
            growth = ratio(row.cold_10x["min_ms"], row.cold["min_ms"])
            errors = f" ({reg.errors} errors)" if reg.errors else ""
            datasette = row.datasette.rps if row.datasette else None
            cells = [
                engine,
                f"{row.probe.name} `{row.probe.path}`",
                f"{fmt(reg.rps, 0)} ({fmt(reg.p50_ms, 1)}){errors}",
                fmt(row.bare.rps, 0),
                f"{fmt(vs_bare)}×",
                fmt(datasette, 0),
                f"{fmt(vs_datasette)}×" if vs_datasette else "–",
                cold_cell(row.cold),
                cold_cell(row.cold_10x),
                f"{fmt(growth)}×",
                cold_cell(row.cold[FIRST]),
                cold_cell(row.cold_10x[FIRST]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
            where = f"{engine}, {row.probe.name}"
            goals.append((f"cached ≥ {GOAL_BARE}× bare WSGI", f"{where}: {fmt(vs_bare)}×", vs_bare >= GOAL_BARE))
            if vs_datasette is not None:
                goals.append((f"≥ {GOAL_DATASETTE:.0f}× Datasette", f"{where}: {fmt(vs_datasette)}×", vs_datasette >= GOAL_DATASETTE))
            if row.probe.cold_goal_ms:
                met = row.cold["min_ms"] <= row.probe.cold_goal_ms
                goals.append((f"cold ≤ {row.probe.cold_goal_ms:.0f} ms", f"{where}: {fmt(row.cold['min_ms'], 1)} ms", met))
            if not row.probe.output_grows:
                goals.append((f"10x cold growth < {GOAL_GROWTH:.0f}×", f"{where}: {fmt(growth)}×", growth < GOAL_GROWTH))
    return "\n".join(lines), goals


def edit_table(edits: dict[str, dict[str, dict[str, Any]]]) -> tuple[str, list[tuple[str, str, bool]]]:
    lines = [
        "| db | edit at 1x ms: best (median, CPU, queries) | edit at 10x ms: best (median, CPU, queries) | 10x / 1x |",
        "|---|---:|---:|---:|",
    ]
    goals: list[tuple[str, str, bool]] = []
    for engine, edit in edits.items():
        growth = ratio(edit["10x"]["min_ms"], edit["1x"]["min_ms"])
        lines.append(f"| {engine} | {cold_cell(edit['1x'])} | {cold_cell(edit['10x'])} | {fmt(growth)}× |")
        for size in ("1x", "10x"):
            best = edit[size]["min_ms"]
            goals.append((f"edit ≤ {GOAL_EDIT_MS:.0f} ms", f"{engine}, {size}: {fmt(best, 1)} ms", best <= GOAL_EDIT_MS))
        goals.append((f"edit at 10x ≤ {GOAL_EDIT_GROWTH}× 1x", f"{engine}: {fmt(growth)}×", growth <= GOAL_EDIT_GROWTH))
    return "\n".join(lines), goals


def cold_cell(cold: dict[str, Any]) -> str:
    return f"{fmt(cold['min_ms'], 1)} ({fmt(cold['ms'], 1)}, {fmt(cold['cpu_ms'], 1)}, {cold['queries']})"


def goal_summary(goals: list[tuple[str, str, bool]]) -> str:
    lines = ["| goal | met | where (not met first) |", "|---|---|---|"]
    for goal in dict.fromkeys(g for g, _, _ in goals):
        mine = [(where, ok) for g, where, ok in goals if g == goal]
        failed = [where for where, ok in mine if not ok]
        shown = failed or [where for where, _ in mine]
        lines.append(f"| {goal} | {mark(not failed)} ({len(mine) - len(failed)} of {len(mine)}) | {'; '.join(shown)} |")
    return "\n".join(lines)


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}; "
        f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )


def say(message: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 5)), help="length of each wrk run")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: sudo apt-get install wrk")
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    redis_url = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/4")
    cache_url = redis_url if redis_answers(redis_url) else "locmemcache://registry"
    static_env = site_env("sqlite:///:memory:", "locmemcache://registry")
    manage(static_env, "collectstatic", "--noinput", "--clear")
    subprocess.run([str(ROOT / ".venv" / "bin" / "pybabel"), "-q", "compile", "-d", "locale", "-D", "django"], cwd=ROOT, check=True)

    engines = {}
    sqlite_file = WORK / "registry.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
    engines["sqlite"] = f"sqlite:///{sqlite_file}"
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        reset_postgresql(database_url)
        engines["postgresql"] = database_url
    results, grown, edits = {}, {}, {}
    for engine, url in engines.items():
        results[engine], grown[engine], edits[engine] = run_engine(engine, url, cache_url, options.seconds)

    rows_table, goals = table(results)
    edits_table, edit_goals = edit_table(edits)
    goals += edit_goals
    minutes = (time.monotonic() - started) / 60
    report = "\n".join(
        [
            f"# Read benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"Machine: {machine()}. The machine may be shared: compare ratios within this run only.",
            "",
            f"- **cached**: wrk, {CONNECTIONS} connections, {THREADS} threads, {options.seconds} s per request, the same request "
            f"repeated, after two warming requests; the site under gunicorn ({WORKERS} sync workers, DEBUG off, "
            f"cache {cache_url.split('://')[0]}, anonymous API rate limit raised so the load is not throttled). "
            "Whatever the site caches, it serves from its cache.",
            "- **bare WSGI**: the captured bytes of the same responses (status, headers, body) served by a WSGI app that does "
            "nothing else, under the same gunicorn settings: the ceiling.",
            "- **Datasette**: `datasette serve -i` on the same SQLite file (one process, defaults): the API list against "
            "50 units of the province as JSON, the zh faceted page against the same rows as HTML with two facets.",
            "- **edit**: the whole request that writes, as a partner makes it: `PATCH /api/v1/designations/<id>/` with a "
            "token and a reason, in-process (Django test client): authentication, scope, the row lock, the write and its "
            "history, and the new data token after the commit. Nothing is worked out for the readers.",
            "- **first after an edit**: the first read of the request after each edit, as another instance makes it "
            "(`counties.reads.statistics.forget_loaded_rows()`: nothing kept in the process): it works out what it needs "
            f"under the new token and stores it in the cache ({cache_url.split('://')[0]}).",
            "- **cold**: the next read, as another instance again, with the response cache off (every response cached under "
            "the old token is stale after an edit): what the first read worked out is read from the cache. "
            f"{REPEATS} requests each: the best wall time (the least disturbed by other work on the machine: "
            "the goals are judged on it), the median wall time, the median CPU time of the process and "
            "the queries a request ran. The growth goal is not applied to the exports, whose output is ten times larger.",
            f"- **10x**: the same database grown to {UNITS_10X:,} units and {DESIGNATIONS_10X:,} designations "
            f"({'; '.join(f'{e}: {g}' for e, g in grown.items())}).",
            "",
            rows_table,
            "",
            edits_table,
            "",
            goal_summary(goals),
            "",
            f"Run time {minutes:.1f} min.",
        ]
    )
    print("\n" + report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(report + "\n", encoding="utf-8")
    print(f"\nwritten to {(RESULTS / 'latest.md').relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_cold":
        cold_timings(Path(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_grow":
        grow()
    else:
        main()
