"""Fixtures for browser tests: a real server on a throwaway SQLite database, driven by Debian's
Chromium through Playwright (never a browser download). Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
STAFF_USER, STAFF_PASSWORD = "officer", "a-long-test-password-9"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site served by `manage.py runserver` on its own SQLite database with the reference data
    and the illustrative roster, as `make run` serves it."""
    database = tmp_path_factory.mktemp("browser") / "db.sqlite3"
    env = os.environ | {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DATA_PACKAGE_DIR": str(database.parent / "data-package"),
    }
    env.pop("SECRET_KEY", None)
    env["DJANGO_SUPERUSER_PASSWORD"] = STAFF_PASSWORD
    for command in (
        ["migrate", "--noinput"],
        ["load_reference_data"],
        ["load_illustrative_roster"],
        ["createsuperuser", "--noinput", "--username", STAFF_USER, "--email", "staff@example.cn"],
        ["build_data_package"],
    ):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the test server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium (CI installs it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


EXAMPLE_VALUES = ROOT / "data" / "examples" / "indicator_values_illustrative.csv"


@pytest.fixture(scope="session")
def indicator_values_imported(browser: object, live_site: str) -> None:
    """The example indicator values (宣化县/宣化区 130721/130705, up to tens of thousands), imported by
    a data officer in the admin, once for every browser test that reads them."""
    page = browser.new_page(viewport=VIEWPORTS["desktop"])  # type: ignore[attr-defined]
    page.goto(f"{live_site}/admin/login/?next=/admin/")
    page.fill("#id_username", STAFF_USER)
    page.fill("#id_password", STAFF_PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    page.goto(f"{live_site}/admin/counties/indicatorvalue/import/")
    page.set_input_files("input[type=file]", str(EXAMPLE_VALUES))
    page.select_option("select[name=format]", label="csv")
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("input[name=import_file_name]").count() == 1  # a clean preview, ready to confirm
    screenshot(page, "desktop-admin-import-indicator-values-preview")
    page.fill("textarea[name=reason]", "示例文件试用")  # the confirmation asks why
    page.locator("form input[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/admin/counties/indicatorvalue/"))
    assert "130705" in page.content()
    page.close()


def screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
