"""A data officer in headless Chromium, at 1280 px in Chinese and in English (and the change log and
dashboard at 375 px): opens a unit by its code, imports a file with a mistake and sees every row
with its status and the file kept, fixes it and commits, reads the history in words, and opens the
change log filtered by user and province."""

import re

import pytest

from .browser import STAFF_PASSWORD, STAFF_USER, screenshot

pytestmark = pytest.mark.browser

HEADER = "code,batch_year,kind,source,source_kind\n"

# Each language imports its own record, so the two runs share the one test site.
LANGUAGES = {
    "zh": {
        "prefix": "",
        "code": "110105",
        "name": "朝阳区",
        "new": "新增",
        "error": "错误",
        "kept": "已保留在服务器上",
        "words": "革命老区县: 未知 → 否",
        "province": "河北省 (130000)",
    },
    "en": {
        "prefix": "/en",
        "code": "110106",
        "name": "丰台区",
        "new": "New",
        "error": "Error",
        "kept": "is kept on the server",
        "words": "Old revolutionary base county: unknown → no",
        "province": "河北省 (130000)",
    },
}


def signed_in(browser, live_site, width=1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_site}/admin/login/?next=/admin/")
    page.fill("#id_username", STAFF_USER)
    page.fill("#id_password", STAFF_PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    return page


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_unit_opens_by_its_code(browser, live_site, language):
    words = LANGUAGES[language]
    page = signed_in(browser, live_site)
    page.goto(f"{live_site}{words['prefix']}/admin/counties/unit/130705/change/")
    assert page.locator("#id_name_zh").input_value() == "宣化区"
    assert page.locator("a.historylink").get_attribute("href").endswith("/admin/counties/unit/130705/history/")
    screenshot(page, f"desktop-{language}-admin-unit-by-code")
    page.goto(f"{live_site}{words['prefix']}/admin/counties/unit/")
    assert page_width(page) <= 1280  # the units list fits: nothing clipped, no sideways scroll
    last = page.locator("#result_list tbody tr").first.locator("td").last
    box = last.bounding_box()
    assert box["x"] + box["width"] <= page.locator("#changelist-filter").bounding_box()["x"]  # the last column is in view
    name_cell = page.locator("#result_list tbody tr").first.locator("td.field-name_zh")
    assert name_cell.bounding_box()["height"] < 40  # one line
    screenshot(page, f"desktop-{language}-admin-units")
    page.close()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_import_with_a_mistake_keeps_the_file_then_fixed(browser, live_site, tmp_path, language):
    words = LANGUAGES[language]
    page = signed_in(browser, live_site)
    wrong = tmp_path / "roster.csv"
    wrong.write_text(HEADER + f"{words['code']},2021,new,商建函〔2021〕1号,official\n130721,2021,new,商建函〔2021〕1号,official\n", "utf-8")
    page.goto(f"{live_site}{words['prefix']}/admin/counties/designation/import/")
    assert page.locator("select[name=format] option").all_inner_texts() == ["csv", "xlsx"]
    assert page.locator("a[href$='/admin/counties/designation/import-template/']").count() == 1
    page.set_input_files("input[type=file]", str(wrong))
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    # Every row, with its status; the mistake on its row, with the successor to use; nothing to confirm.
    rows = page.locator("table.registry-import-preview tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td.import-status").inner_text().startswith(words["new"])
    assert rows.nth(1).locator("td.import-status").inner_text().startswith(words["error"])
    assert "130705" in rows.nth(1).inner_text()
    headers = page.locator("table.registry-import-preview thead th").all_inner_texts()
    assert not any(h.strip().isupper() and len(h.strip()) > 3 for h in headers)  # labels, not CAPS field names
    assert page.locator("input[name=import_file_name]").count() == 0
    # The file is kept: named on the page, checked again without choosing it.
    assert words["kept"] in page.content() and "roster.csv" in page.locator(".kept-file").inner_text()
    assert page_width(page) <= 1280
    screenshot(page, f"desktop-{language}-admin-import-error")
    page.locator("button[name=use_kept]").click()
    page.wait_for_load_state()
    assert page.locator("table.registry-import-preview tbody tr").count() == 2

    fixed = tmp_path / "roster-fixed.csv"
    fixed.write_text(HEADER + f"{words['code']},2021,new,商建函〔2021〕1号,official\n130705,2021,new,商建函〔2021〕1号,official\n", "utf-8")
    page.set_input_files("input[type=file]", str(fixed))
    page.locator("form input[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.locator("input[name=import_file_name]").count() == 1
    assert page_width(page) <= 1280
    screenshot(page, f"desktop-{language}-admin-import-preview")
    page.fill("textarea[name=reason]", "商建函〔2021〕1号")  # the confirmation asks why
    page.locator("form input[name=confirm]").click()
    page.wait_for_url(re.compile(r"/admin/counties/designation/"))
    page.goto(f"{live_site}{words['prefix']}/admin/counties/designation/?q={words['code']}")
    assert words["name"] in page.content()
    page.close()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_history_reads_in_words_and_old_versions_are_read_only(browser, live_site, language):
    words = LANGUAGES[language]
    page = signed_in(browser, live_site)
    page.goto(f"{live_site}{words['prefix']}/admin/counties/designation/?q={'130123' if language == 'zh' else '130125'}")
    page.locator("#result_list tbody tr").first.locator("th a, td a").first.click()
    page.wait_for_load_state()
    page.select_option("#id_is_old_revolutionary_base", "false")
    page.fill("#id_change_reason", "核对老区县名单")
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state()
    page.locator("a.historylink").click()
    page.wait_for_load_state()
    text = re.sub(r"\s+", " ", page.locator("#change-history").inner_text())
    assert words["words"] in text
    assert "None" not in text
    screenshot(page, f"desktop-{language}-admin-history")
    page.locator("#change-history tbody tr").first.locator("a").first.click()
    page.wait_for_load_state()
    content = page.locator("#content-main")
    assert content.locator("input, select, textarea").count() == 0  # nothing to edit or save
    screenshot(page, f"desktop-{language}-admin-history-version")
    page.close()


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_change_log_filtered_by_user_and_province_and_the_dashboard(browser, live_site, language, viewport):
    words = LANGUAGES[language]
    width = 1280 if viewport == "desktop" else 375
    page = signed_in(browser, live_site, width)
    page.goto(f"{live_site}{words['prefix']}/admin/changes/")
    page.select_option("select[name=user]", label=STAFF_USER)
    page.select_option("select[name=province]", label=words["province"])
    page.locator(".change-log-filters input[type=submit]").click()
    page.wait_for_load_state()
    assert "user=" in page.url and "province=" in page.url
    rows = page.locator("#change-log tbody tr")
    assert rows.count() >= 1
    assert all(STAFF_USER in row for row in rows.all_inner_texts())
    assert "核对老区县名单" in page.locator("#change-log").inner_text()  # the Hebei change made above
    assert page_width(page) <= width
    screenshot(page, f"{viewport}-{language}-admin-change-log")
    page.goto(f"{live_site}{words['prefix']}/admin/dashboard/")
    assert page.locator("#source-kinds tbody tr").count() >= 5
    assert page.locator("#illustrative-batches tbody tr").count() >= 1
    assert "roster-fixed.csv" in page.locator("#recent-imports").inner_text()
    assert page_width(page) <= width
    screenshot(page, f"{viewport}-{language}-admin-dashboard")
    page.close()
