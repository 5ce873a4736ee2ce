"""The public pages in headless Chromium, as a visitor uses them, at desktop and phone widths."""

import re

import pytest

from .browser import VIEWPORTS, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser):
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()


def test_filter_the_list_by_province_and_batch(page, live_site):
    page.goto(f"{live_site}/counties/")
    page.select_option("#province", "650000")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(re.compile(r"province=650000"))
    page.locator(".facet a", has_text="2016").first.click()
    page.wait_for_url(re.compile(r"batch_year=2016"))
    assert page.locator("#results-heading").inner_text() == "23 个示范县（按地方计）"
    assert page.locator("tbody tr").count() == 23
    screenshot(page, f"{page.viewport_name}-list-xinjiang-2016")


def test_search_by_pinyin_and_open_a_county(page, live_site):
    page.goto(f"{live_site}/")
    page.fill("#home-q", "xuanhua")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=xuanhua"))
    page.get_by_role("link", name="130705").click()
    page.wait_for_url(re.compile(r"/counties/130705/"))
    assert page.locator("h1").inner_text().startswith("宣化区")
    assert page.get_by_text("宣化县 (130721)").count() >= 1
    screenshot(page, f"{page.viewport_name}-county-xuanhua")


def test_old_code_url_lands_on_the_successor(page, live_site):
    page.goto(f"{live_site}/counties/130721/")
    assert page.url.endswith("/counties/130705/?from=130721")


def test_switch_language_and_read_the_statistics(page, live_site):
    page.goto(f"{live_site}/statistics/")
    assert page.locator("h1").inner_text() == "覆盖统计"
    page.locator(".language-switch").get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"/en/statistics/"))
    assert page.locator("h1").inner_text() == "Coverage statistics"
    # Five coverage charts (the provinces' drawn as two on one scale, side by side) and the national series.
    assert page.locator("svg.chart").count() == 7
    assert page.get_by_text("88.6%").count() >= 1
    screenshot(page, f"{page.viewport_name}-statistics-en")
    # And back: the Chinese link leaves English (it used to redirect to the English page again).
    page.locator(".language-switch").get_by_role("link", name="简体中文").click()
    page.wait_for_url(re.compile(r"/statistics/$"))
    assert "/en/" not in page.url
    assert page.locator("h1").inner_text() == "覆盖统计"


def test_no_request_leaves_the_site(page, live_site):
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(live_site) else None)
    for path in ("/", "/counties/", "/statistics/", "/counties/130705/", "/api/v1/docs/"):
        page.goto(f"{live_site}{path}")
        page.wait_for_load_state("networkidle")
    assert outside == []
