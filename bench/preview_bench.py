"""Admin import benchmark at the admin's limits: a designation file of `ADMIN_MAX_ROWS` rows that
changes every row's `source` to a long, different text, as large as `IMPORT_MAX_BYTES` allows,
previewed and then confirmed through the admin's own pages (the whole request: upload, reading,
validation, the change display, the page).

    make bench-preview                                   # a throwaway SQLite database
    DATABASE_URL=postgres://…/scratch make bench-preview  # a PostgreSQL database it may fill

It builds its own database (migrate, reference data), imports the rows once with a long source of
their own (the command line, not timed), then times the admin's preview of the file that replaces
every source, and the confirmation that writes it. Point DATABASE_URL only at a database whose
contents may go. This is a measurement to read, not a timed test: the target is a preview well
inside the server's 60 s request timeout (under 10 s).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import secrets
import string
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["code", "batch_year", "batch_sequence", "status", "source", "source_kind"]


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def long_text(rng: random.Random, length: int) -> str:
    """Words of lower-case letters: text a character diff has to work through, never one block."""
    words: list[str] = []
    size = 0
    while size < length:
        word = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9)))
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:length].strip()


def write_files(directory: Path) -> dict:
    """The rows (units in use in each batch year, as many as the admin takes) with a first long
    source, and the same rows with another: the second file is just under IMPORT_MAX_BYTES."""
    django_setup()
    from django.conf import settings

    from counties.models import Batch, SourceKind, Unit
    from counties.writes.imports.programme import ADMIN_MAX_ROWS

    keys = []
    for batch in Batch.objects.order_by("year", "sequence"):
        for key in Unit.objects.in_use_at(batch.year).order_by("key").values_list("key", flat=True):
            keys.append([key, batch.year, batch.sequence, "designated"])
    keys = keys[:ADMIN_MAX_ROWS]
    assert len(keys) == ADMIN_MAX_ROWS, f"only {len(keys)} designations could be generated"
    # Each row's share of the size limit, less its other cells, the separators and the header.
    overhead = max(len(",".join(map(str, row))) for row in keys) + len(",,official\r\n")
    length = (settings.IMPORT_MAX_BYTES - 200) // ADMIN_MAX_ROWS - overhead
    rng = random.Random(21)
    paths = {}
    for name in ("before", "after"):
        path = directory / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(HEADER)
            writer.writerows([*row, long_text(rng, length), SourceKind.OFFICIAL] for row in keys)
        paths[name] = str(path)
    size = Path(paths["after"]).stat().st_size
    assert size <= settings.IMPORT_MAX_BYTES, size
    return {**paths, "rows": len(keys), "bytes": size, "length": length}


def run_command(command: list[str]) -> dict:
    django_setup()
    from django.core.management import call_command

    call_command(*command, stdout=StringIO())
    return {}


def admin_import(path: str) -> dict:
    """Preview `path` in the admin, then confirm it; the time of each request."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    user = get_user_model().objects.create_superuser("bench", "bench@example.org", secrets.token_urlsafe(16))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = reverse("admin:counties_designation_import")
    form_page = client.get(url, secure=True).content.decode()
    csv_choice = re.search(r'<option value="(\d+)"[^>]*>csv</option>', form_page)[1]
    figures = {}
    with open(path, "rb") as upload:
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        preview = client.post(url, {"import_file": upload, "format": csv_choice, "resource": "0"}, secure=True)
        figures["preview"] = measured(start, before)
    page = preview.content.decode()
    assert preview.status_code == 200, preview.status_code
    rows = re.findall(r'<tr class="import-row import-row-(\w+)">', page)
    assert rows.count("update") == len(rows), {status: rows.count(status) for status in set(rows)}
    figures["page_mb"] = round(len(page) / 1e6, 1)
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page))
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    done = client.post(reverse("admin:counties_designation_process_import"), {**fields, "reason": "benchmark"}, secure=True)
    figures["confirm"] = measured(start, before)
    assert done.status_code == 302, done.status_code
    return figures


def measured(start: float, before: resource.struct_rusage) -> dict:
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"seconds": round(time.perf_counter() - start, 1), "cpu": round(cpu, 1), "peak_mb": round(after.ru_maxrss / 1024)}


def child(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, env=os.environ, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    # The parent runs itself with --command …, --files DIR or --admin FILE for each step (internal).
    steps = {
        "--command": lambda args: run_command(args),
        "--files": lambda args: write_files(Path(args[0])),
        "--admin": lambda args: admin_import(args[0]),
    }
    if sys.argv[1:2] and sys.argv[1] in steps:
        print(json.dumps(steps[sys.argv[1]](sys.argv[2:])))
        return
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="preview-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ["STATIC_ROOT"] = str(workdir / "static")  # the pages name the collected, hashed files
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"], ["load_reference_data"]):
        child(["--command", *command])
    files = child(["--files", str(workdir)])
    child(["--command", "import_designations", files["before"], "--reason", "benchmark"])
    figures = child(["--admin", files["after"]])
    print(f"{'admin request':<36}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}")
    for step in ("preview", "confirm"):
        print(f"{step:<36}{figures[step]['seconds']:>8}{figures[step]['cpu']:>8}{figures[step]['peak_mb']:>9}")
    print(
        f"{files['rows']:,} rows changing a {files['length']:,}-character source each; file {files['bytes'] / 2**20:.1f} MiB, "
        f"preview page {figures['page_mb']} MB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; files and "
        f"database in {workdir}"
    )


if __name__ == "__main__":
    main()
