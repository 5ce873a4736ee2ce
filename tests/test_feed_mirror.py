"""The README's mirror script (scripts/mirror_feed.py), run against the API: a mirror it keeps
holds every public record as stored, and stays exact after more writes."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

from counties import models
from counties.reads.public_records import KINDS, public_rows
from counties.writes import services

pytestmark = [pytest.mark.django_db]
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "mirror_feed.py"


@pytest.fixture(autouse=True)
def unthrottled(settings):
    settings.API_THROTTLE_RATES = {"anon": "100000/minute", "token": "100000/minute"}


def mirror_module():
    spec = importlib.util.spec_from_file_location("mirror_feed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored() -> dict:
    return {
        f"{row.kind.name}/{row.key}": row.record
        for kind in KINDS
        for row in public_rows(kind, kind.queryset().values_list("pk", flat=True))
    }


def test_the_readme_shows_the_script_the_test_runs():
    readme = (SCRIPT.parent.parent / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```python\n(\"\"\"Keep a mirror.*?)```", readme, re.S)
    assert shown is not None and shown.group(1) == SCRIPT.read_text(encoding="utf-8")


def test_the_mirror_script_keeps_a_mirror_exact(client, tmp_path):
    mirror = mirror_module()

    def fetch(url: str):
        response = client.get(url.removeprefix("https://registry.example.cn"))
        return response.status_code, response.json()

    state_file = tmp_path / "mirror.json"
    state = mirror.sync("https://registry.example.cn", state_file, fetch=fetch)
    assert state["records"] == stored()
    designation = models.Designation.objects.order_by("pk").first()
    designation.name_as_reported = "镜像"
    services.save_record(designation, user=None, reason="mirror")
    funding = models.FundingAllocation.objects.filter(conditional_on__isnull=True).order_by("pk").last()
    services.delete_record(funding, user=None, reason="mirror")
    again = mirror.sync("https://registry.example.cn", state_file, fetch=fetch)  # from the cursor it kept
    assert again["records"] == stored() == json.loads(state_file.read_text())["records"]
    assert again["records"][f"designation/{designation.pk}"]["name_as_reported"] == "镜像"
