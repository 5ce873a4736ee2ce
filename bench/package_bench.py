"""Data package benchmark (`make bench-package`, also run by `make bench`): the time and peak
memory of `build_data_package` on the reference data with the illustrative roster (1x) and on the
same database grown as `make bench` grows it (10x: 30,000 units, 12,000 designations).

    make bench-package                                   # a throwaway SQLite database
    DATABASE_URL=postgres://…/scratch make bench-package  # a PostgreSQL database it may fill

It builds its own database (migrate, reference data, illustrative roster), so point DATABASE_URL
only at a database whose contents may go. Each build runs in a process of its own: the peak
printed is that process's maximum resident set size (Django and the app's imports included), and
beside it the same figure just before the build started, so the build's own share shows. The
issue's targets: the 10x build within 30 s and 200 MB. The table is printed and written into
bench/results/latest.md (replacing an earlier one there), beside `make bench`'s figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "latest.md"
SECTION = "## Data package build (`make bench-package`)"
GOAL_SECONDS, GOAL_MB = 30, 200


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_command(command: list[str]) -> dict:
    django_setup()
    from django.core.management import call_command

    call_command(*command, stdout=StringIO())
    return {}


def run_build() -> dict:
    """One build in this process: wall and CPU time, peak memory before and after."""
    django_setup()
    from counties.reads.data_package import build

    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    built = build.build()
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    assert built.wrote, "the version was built already: nothing was measured"
    version = built.version
    return {
        "seconds": round(elapsed, 1),
        "cpu": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "peak_mb": round(after.ru_maxrss / 1024),  # Linux reports KiB
        "before_mb": round(before.ru_maxrss / 1024),
        "rows": sum(t.rows for t in version.tables),
        "zip_mb": round(version.archive.bytes / 1e6, 1),
        "sqlite_mb": round(version.database.bytes / 1e6, 1),
    }


def child(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=os.environ, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    lines = result.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}


def main() -> None:
    if sys.argv[1:2] == ["--command"]:
        print(json.dumps(run_command(sys.argv[2:])))
        return
    if sys.argv[1:2] == ["--build"]:
        print(json.dumps(run_build()))
        return
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="package-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ["DATA_PACKAGE_DIR"] = str(workdir / "package")
    engine = "postgresql" if os.environ["DATABASE_URL"].startswith("postgres") else "sqlite"
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")
    if engine == "postgresql":  # emptied first, as make bench does
        child([__file__, "--command", "flush", "--noinput"])
    for command in (["migrate", "--noinput", "-v", "0"], ["load_reference_data"], ["load_illustrative_roster"]):
        child([__file__, "--command", *command])
    results = {"1x": child([__file__, "--build"])}
    child([str(ROOT / "bench" / "bench.py"), "_grow"])
    results["10x"] = child([__file__, "--build"])

    lines = [
        SECTION,
        "",
        f"{engine}; each build in a fresh process; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
        "",
        "| data | rows | wall s | CPU s | peak MB (before the build) | zip MB | SQLite MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size, r in results.items():
        peak = f"{r['peak_mb']} ({r['before_mb']})"
        lines.append(f"| {size} | {r['rows']:,} | {r['seconds']} | {r['cpu']} | {peak} | {r['zip_mb']} | {r['sqlite_mb']} |")
    ten = results["10x"]
    met = ten["seconds"] <= GOAL_SECONDS and ten["peak_mb"] <= GOAL_MB
    lines += ["", f"Goal, 10x within {GOAL_SECONDS} s and {GOAL_MB} MB: {'met' if met else 'NOT met'}.", ""]
    text = "\n".join(lines)
    print(text)
    previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    kept = re.split(rf"\n*{re.escape(SECTION)}", previous)[0].rstrip()
    RESULTS.write_text((kept + "\n\n" if kept else "") + text, encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}; files and database in {workdir}")


if __name__ == "__main__":
    main()
