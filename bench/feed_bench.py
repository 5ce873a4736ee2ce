"""Change feed benchmark (`make bench-feed`, also run by `make bench`): a page of the feed (100
changes) and the people's changes page, cold, on the reference data and after ten years of edits
(one million changes).

    make bench-feed                                   # a throwaway SQLite database
    DATABASE_URL=postgres://…/scratch make bench-feed  # PostgreSQL (its contents are DROPPED)

1. Builds the database: migrations, reference data, illustrative roster (the feed then holds what
   they wrote, about ten thousand changes).
2. Cold timings, in-process (Django test client, production settings): before each read, nothing
   kept in the process and the response cache off, so each read runs its view and its queries.
   15 reads each: the best wall time (the goal is judged on it), the median, the queries.
3. Adds generated changes up to one million (copies of the stored ones' records, spread over the
   kinds and provinces as the loaders' are) and times the same reads again.

Goals: a feed page within 10 ms cold, and at most 1.5x apart between the two sizes. Writes
bench/results/feed-<engine>.md. The machine may be shared: only ratios within one run mean anything.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work" / "feed"
RESULTS = ROOT / "bench" / "results"
PYTHON = ROOT / ".venv" / "bin" / "python"
REPEATS = int(os.environ.get("BENCH_REPEATS", 15))
HISTORY_ROWS = int(os.environ.get("BENCH_FEED_ROWS", 1_000_000))
GOAL_MS, GOAL_GROWTH = 10.0, 1.5
PARTNER = {"HTTP_ACCEPT": "application/json", "HTTP_USER_AGENT": "registry-partner/1.0"}
BROWSER = {"HTTP_ACCEPT": "text/html", "HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}

# (name, path with {middle} and {latest} cursors, headers, held to the goal)
PROBES = [
    ("API feed page, from a cursor", "/api/v1/changes/?after={middle}", PARTNER, True),
    ("API feed page, the newest", "/api/v1/changes/?after={latest}", PARTNER, True),
    ("API feed page, one province", "/api/v1/changes/?province=130000&after={middle}", PARTNER, True),
    ("API feed page, one kind", "/api/v1/changes/?kind=designation&after={middle}", PARTNER, True),
    ("changes page", "/changes/", BROWSER, False),
    ("changes page, one county", "/changes/?county=130721", BROWSER, False),
]


def env() -> dict[str, str]:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{WORK / 'feed.sqlite3'}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver,localhost",
        "DATABASE_URL": url,
        "CACHE_URL": "locmemcache://feed-bench",
        "STATIC_ROOT": str(WORK / "static"),
        "SECURE_SSL_REDIRECT": "0",
        "API_ANON_RATE": "100000000/minute",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def cold(out: Path) -> None:
    django_setup()
    from django.db import connection
    from django.db.models import Max, Min
    from django.test import Client, override_settings

    from counties.models import Change
    from counties.reads.changes import encode_cursor
    from counties.reads.statistics import forget_loaded_rows

    bounds = Change.objects.aggregate(first=Min("id"), last=Max("id"))
    cursors = {"middle": encode_cursor((bounds["first"] + bounds["last"]) // 2), "latest": encode_cursor(bounds["last"] - 100)}
    queries = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[0] += 1
        return execute(sql, params, many, context)

    results: dict[str, Any] = {"changes": Change.objects.count()}
    for name, path, headers, _goal in PROBES:
        target = path.format(**cursors)
        client = Client(**headers)
        assert client.get(target).status_code == 200, target
        wall = []
        for _ in range(REPEATS):
            forget_loaded_rows()
            queries[0] = 0
            with override_settings(RESPONSE_CACHE=False), connection.execute_wrapper(count):
                started = time.perf_counter()
                response = client.get(target)
                wall.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, target
        results[name] = {"min_ms": min(wall), "ms": statistics.median(wall), "queries": queries[0]}
    out.write_text(json.dumps(results))


def grow() -> None:
    """Copies of the stored changes until the feed holds HISTORY_ROWS, in large INSERTs."""
    django_setup()
    from django.db import transaction
    from django.utils import timezone

    from counties.models import Change

    stored = list(Change.objects.order_by("id").values("kind", "key", "action", "record", "province", "unit_id"))
    missing = HISTORY_ROWS - len(stored)
    now = timezone.now()
    batch: list[Change] = []
    for n in range(max(missing, 0)):
        row = stored[n % len(stored)]
        action = row["action"] if row["action"] != "created" else "changed"
        batch.append(Change(**{**row, "action": action, "record": row["record"] if action != "deleted" else None}, at=now))
        if len(batch) == 20_000:
            with transaction.atomic():
                Change.objects.bulk_create(batch, batch_size=2000)
            batch = []
    if batch:
        with transaction.atomic():
            Change.objects.bulk_create(batch, batch_size=2000)
    print(f"{Change.objects.count():,} changes")


def run(phase: str, environment: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(PYTHON), str(Path(__file__)), phase, *args], cwd=ROOT, env=environment, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{phase} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def manage(environment: dict[str, str], *args: str) -> None:
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL)


def reset(environment: dict[str, str]) -> None:
    url = environment["DATABASE_URL"]
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        path.unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    environment = env()
    engine = "sqlite" if environment["DATABASE_URL"].startswith("sqlite") else "postgresql"
    print(f"[{engine}] building the database", file=sys.stderr)
    reset(environment)
    manage(environment, "collectstatic", "--noinput")
    manage(environment, "migrate", "--noinput")
    manage(environment, "load_reference_data")
    manage(environment, "load_illustrative_roster")
    print(f"[{engine}] cold timings, reference data", file=sys.stderr)
    run("_cold", environment, str(WORK / "cold-1x.json"))
    small = json.loads((WORK / "cold-1x.json").read_text())
    print(f"[{engine}] generating changes", file=sys.stderr)
    grown = run("_grow", environment)
    print(f"[{engine}] cold timings, {grown}", file=sys.stderr)
    run("_cold", environment, str(WORK / "cold-1m.json"))
    large = json.loads((WORK / "cold-1m.json").read_text())
    lines = [
        f"# Change feed, cold ({engine}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"Reference data: {small['changes']:,} changes; ten years of edits: {large['changes']:,}. Best of {REPEATS} "
        f"(median, queries). Goal: a feed page within {GOAL_MS:g} ms and at most {GOAL_GROWTH:g}x apart.",
        "",
        "| request | 1x ms | 1M ms | 1M / 1x | goal |",
        "|---|---|---|---|---|",
    ]
    for name, path, _headers, goal in PROBES:
        a, b = small[name], large[name]
        growth = b["min_ms"] / a["min_ms"]
        met = "" if not goal else ("met" if max(a["min_ms"], b["min_ms"]) <= GOAL_MS and growth <= GOAL_GROWTH else "**missed**")
        lines.append(
            f"| {name} `{path}` | {a['min_ms']:.1f} ({a['ms']:.1f}, {a['queries']}) | {b['min_ms']:.1f} ({b['ms']:.1f}, {b['queries']}) "
            f"| {growth:.2f}x | {met} |"
        )
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"feed-{engine}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_cold":
        cold(Path(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_grow":
        grow()
    else:
        main()
