"""Import benchmark: a 20,000-row designation file and a 20,000-row funding file, each validated
(--dry-run) and committed through the import commands, with the time and peak memory of each.

    make bench-import                                   # a throwaway SQLite database
    DATABASE_URL=postgres://…/scratch make bench-import  # a PostgreSQL database it may fill

It builds its own database (migrate, reference data, illustrative roster), so point DATABASE_URL
only at a database whose contents may go. Each phase runs in a process of its own, so the peak
memory printed (the process's maximum resident set size, Django included) is that phase's alone.
This is a measurement to read, not a timed test: the issue's targets are under 20 s to validate,
under 40 s to commit and under 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = 20_000


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_phase(command: list[str]) -> dict:
    """Run one management command in this process and report its time and peak memory."""
    django_setup()
    from django.core.management import call_command

    out = StringIO()
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    call_command(*command, stdout=out)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    peak_mb = after.ru_maxrss / 1024  # Linux reports KiB
    return {"seconds": round(elapsed, 1), "cpu": round(cpu, 1), "peak_mb": round(peak_mb), "output": out.getvalue().splitlines()[:2]}


def write_files(directory: Path) -> tuple[Path, Path]:
    """20,000 official designations (every unit in use in each batch year, and a benchmark batch
    for the rest) and 20,000 new funding records, all valid."""
    django_setup()
    from counties.models import Batch, SourceKind, Unit

    bench_batch, _ = Batch.objects.get_or_create(
        year=2022,
        sequence=1,
        defaults={"title_zh": "基准测试批次", "title_en": "benchmark batch", "source": "benchmark", "source_kind": "official"},
    )
    designations = []
    for batch in Batch.objects.order_by("year", "sequence"):
        for key in Unit.objects.in_use_at(batch.year).order_by("key").values_list("key", flat=True):
            designations.append(
                [key, batch.year, batch.sequence, "designated", f"商建函〔{batch.year}〕{len(designations)}号", SourceKind.OFFICIAL]
            )
    # The benchmark batch last, so the real batches are all in the file.
    designations = [d for d in designations if d[1] != bench_batch.year] + [d for d in designations if d[1] == bench_batch.year]
    designations = designations[:ROWS]
    assert len(designations) == ROWS, f"only {len(designations)} designations could be generated"
    d_path = directory / "designations.csv"
    with d_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["code", "batch_year", "batch_sequence", "status", "source", "source_kind"])
        writer.writerows(designations)

    keys = list(Unit.objects.in_use_at(2019).order_by("key").values_list("key", flat=True))
    f_path = directory / "funding.csv"
    with f_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["code", "fiscal_year", "level", "amount_yuan", "purpose", "document_number", "source", "source_kind"])
        for n in range(ROWS):
            level = ("central", "provincial", "county")[n % 3]
            writer.writerow(
                [keys[n % len(keys)], 2019, level, f"{1000 + n}.50", f"benchmark {n}", f"财建〔2019〕{n}号", "benchmark", "official"]
            )
    return d_path, f_path


def child(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, env=os.environ, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    # The parent runs itself with --phase COMMAND… or --files DIR for each step (internal).
    if sys.argv[1:2] == ["--phase"]:
        print(json.dumps(run_phase(sys.argv[2:])))
        return
    if sys.argv[1:2] == ["--files"]:
        d_path, f_path = write_files(Path(sys.argv[2]))
        print(json.dumps({"designations": str(d_path), "funding": str(f_path)}))
        return
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="import-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")
    for command in (["migrate", "--noinput", "-v", "0"], ["load_reference_data"], ["load_illustrative_roster"]):
        child(["--phase", *command])
    files = child(["--files", str(workdir)])
    # Wall time is what a user waits; CPU time is the same work on an idle machine (on a shared
    # one the wall time grows with the load, printed last).
    print(f"{'phase':<36}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}")
    for kind, command in (("designations", "import_designations"), ("funding", "import_funding")):
        for label, extra in (("validate (--dry-run)", ["--dry-run"]), ("commit", [])):
            figures = child(["--phase", command, files[kind], "--reason", "benchmark", *extra])
            print(f"{kind + ' ' + label:<36}{figures['seconds']:>8}{figures['cpu']:>8}{figures['peak_mb']:>9}")
    print(f"{ROWS:,} rows per file; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; files and database in {workdir}")


if __name__ == "__main__":
    main()
