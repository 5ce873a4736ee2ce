"""A data officer in headless Chromium: signs in, imports a file with a mistake, reads the error,
fixes the file and commits it."""

import re

import pytest

from .browser import STAFF_PASSWORD, STAFF_USER, screenshot

pytestmark = pytest.mark.browser

HEADER = "code,batch_year,status,source,source_kind\n"


def test_import_with_a_mistake_then_fixed(browser, live_site, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_site}/admin/login/?next=/admin/")
    page.fill("#id_username", STAFF_USER)
    page.fill("#id_password", STAFF_PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))

    wrong = tmp_path / "roster.csv"
    wrong.write_text(
        HEADER + "110105,2021,designated,商建函〔2021〕1号,official\n130721,2021,designated,商建函〔2021〕1号,official\n", "utf-8"
    )
    page.goto(f"{live_site}/admin/counties/designation/import/")
    page.set_input_files("input[type=file]", str(wrong))
    page.select_option("select[name=format]", label="csv")
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    # The mistake is reported on its row, with the successor to use; nothing can be confirmed.
    page.locator(".errorlist, .validation-error-count, ul.errorlist").first.wait_for()
    errors = page.content()
    assert "请使用其承继代码 130705（宣化区）" in errors  # the admin speaks Chinese
    assert page.locator("input[name=import_file_name]").count() == 0
    screenshot(page, "desktop-admin-import-error")

    fixed = tmp_path / "roster-fixed.csv"
    fixed.write_text(
        HEADER + "110105,2021,designated,商建函〔2021〕1号,official\n130705,2021,designated,商建函〔2021〕1号,official\n", "utf-8"
    )
    page.goto(f"{live_site}/admin/counties/designation/import/")
    page.set_input_files("input[type=file]", str(fixed))
    page.select_option("select[name=format]", label="csv")
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("input[name=import_file_name]").count() == 1
    screenshot(page, "desktop-admin-import-preview")
    page.fill("textarea[name=reason]", "商建函〔2021〕1号")  # the confirmation asks why
    page.locator("form input[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/admin/counties/designation/"))
    page.goto(f"{live_site}/admin/counties/designation/?q=110105")
    assert "朝阳区" in page.content()
    page.close()
