"""The public pages as a reader on a phone (375 px) and a desktop (1280 px) sees them, in Chinese
and English: nothing wider than the screen, filter chips that remove their filter, headers that
sort, the result line, the download links, the old-code banner, and an axe-core accessibility
check with no serious or critical violation. Screenshots go to test-artifacts/screenshots/."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.http import Http404
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext

from registry.handlers import page_not_found

from .browser import VIEWPORTS, screenshot

pytestmark = pytest.mark.browser

LANGUAGES = {"zh": "", "en": "/en"}
# One page of every type, with and without filters.
PAGES = {
    "home": "/",
    "list": "/counties/",
    "list-filtered": "/counties/?province=650000&batch_year=2016&poverty=true",
    "list-all": "/counties/?scope=all&ordering=-province",
    "county": "/counties/130705/?from=130721",
    "provinces": "/provinces/",
    "province": "/provinces/650000/",
    "batches": "/batches/",
    "batch": "/batches/2016/",
    "batch-partial": "/batches/2021/",
    "statistics": "/statistics/",
    "statistics-2018": "/statistics/?as_of=2018",
    "statistics-bad-year": "/statistics/?as_of=abc",
    "not-found": "/counties/999999/",
}
# The pages the accessibility check reads.
AXE_PAGES = ("home", "list-filtered", "county", "provinces", "province", "batch", "statistics", "not-found")
RESULT_LINE = {"zh": re.compile(r"^第 1–(\d+) 条，共 ([\d,]+) 条"), "en": re.compile(r"^1–(\d+) of ([\d,]+)")}


@pytest.fixture(params=[(v, lang) for v in VIEWPORTS for lang in LANGUAGES], ids=lambda p: f"{p[0]}-{p[1]}")
def page(request, browser):
    viewport, language = request.param
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    page.shot_name = f"{viewport}-{language}"
    page.prefix = LANGUAGES[language]
    page.language = language
    yield page
    context.close()


@pytest.fixture
def not_found_page(page, live_site):
    """The live site runs with DEBUG on (as `make run`), where Django answers a 404 with its
    technical page. The site's own 404 page (what production serves) is rendered here by the
    site's handler and served at the same address, so the browser lays out what a visitor gets.
    (The handler needs no database: the test process cannot use it while Playwright runs.)"""
    path = f"{page.prefix}{PAGES['not-found']}"
    with translation.override("en" if page.prefix else "zh-hans"):
        message = gettext("No county-level unit has the code %(code)s.") % {"code": "999999"}
        response = page_not_found(RequestFactory().get(path), Http404(message))
    assert response.status_code == 404 and b"999999" in response.content
    body = response.content
    page.route(f"{live_site}{path}", lambda route: route.fulfill(status=404, content_type="text/html; charset=utf-8", body=body))
    return page


def overflow(page):
    """How far the page reaches past the right edge of the screen (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_no_page_is_wider_than_the_screen(not_found_page, live_site):
    page = not_found_page
    too_wide = {}
    for name, path in PAGES.items():
        response = page.goto(f"{live_site}{page.prefix}{path}")
        assert response.status in (200, 400, 404), (name, response.status)
        if overflow(page) > 0:
            too_wide[name] = overflow(page)
        screenshot(page, f"pages-{page.shot_name}-{name}")
    assert too_wide == {}


def test_long_province_names_stay_on_one_line(page, live_site):
    """A table never breaks a province's name one character a line (the narrow-column bug)."""
    for path in ("/statistics/", "/provinces/"):
        page.goto(f"{live_site}{page.prefix}{path}")
        # Lines taken by each row's Chinese name (its first text node; an English page adds the
        # romanised name after it, on a line of its own on a phone).
        lines = page.eval_on_selector_all(
            "tbody th[scope=row] a",
            "links => links.map(a => { const r = document.createRange(); r.selectNodeContents(a.firstChild);"
            " return r.getClientRects().length; })",
        )
        assert lines and max(lines) == 1


def test_a_chip_removes_its_filter_only(page, live_site):
    page.goto(f"{live_site}{page.prefix}/counties/?province=650000&batch_year=2016")
    chips = page.locator(".chips a.chip")
    assert chips.count() == 2
    # The other provinces stay in the facet, with their counts.
    assert page.locator("#facet-province ~ ul li, #facet-province ~ details li").count() > 5
    chips.filter(has_text=re.compile("新疆|Xinjiang")).click()
    page.wait_for_url(re.compile(r"batch_year=2016"))
    assert "province=" not in page.url
    assert page.locator(".chips a.chip").count() == 1
    screenshot(page, f"pages-{page.shot_name}-chip-removed")
    page.locator(".chips a.chip").click()
    page.wait_for_load_state()
    assert page.locator(".chips").count() == 0


def test_show_all_opens_a_long_facet(page, live_site):
    page.goto(f"{live_site}{page.prefix}/counties/")
    facet = page.locator("section.facet", has=page.locator("#facet-province"))
    hidden = facet.locator("details li").first
    assert not hidden.is_visible()
    facet.locator("summary").click()
    assert hidden.is_visible()


def test_headers_sort_both_ways(page, live_site):
    page.goto(f"{live_site}{page.prefix}/counties/?scope=all&province=650000")
    header = page.locator("thead th").first
    assert header.get_attribute("aria-sort") == "ascending"
    header.locator("a").click()
    page.wait_for_url(re.compile(r"ordering=-code"))
    assert page.locator("thead th").first.get_attribute("aria-sort") == "descending"
    codes = page.locator("tbody td.card-title > a").all_inner_texts()
    assert codes == sorted(codes, reverse=True)
    page.locator("thead th").nth(2).locator("a").click()  # the province column
    page.wait_for_url(re.compile(r"ordering=province"))
    assert page.locator("thead th").nth(2).get_attribute("aria-sort") == "ascending"
    assert page.locator("thead th").first.get_attribute("aria-sort") is None


def test_result_line_and_download_links(page, live_site):
    page.goto(f"{live_site}{page.prefix}/counties/?province=650000")
    line = page.locator(".result-line").inner_text()
    match = RESULT_LINE[page.language].match(line)
    assert match, line
    total = int(match[2].replace(",", ""))
    assert total > 50 and match[1] == "50"
    expected = {"csv": "text/csv", "xlsx": "spreadsheetml", "json": "application/json"}
    for kind, content_type in expected.items():
        href = page.locator(f'a[data-export="{kind}"]').get_attribute("href")
        response = page.request.get(f"{live_site}{href}")
        assert response.status == 200 and content_type in response.headers["content-type"], (kind, href)
        if kind == "json":
            assert response.json()["count"] == total  # the API's answer counts what the page counts
        if kind == "csv":
            assert len(response.text().strip().splitlines()) == total + 1


def test_old_code_shows_how_the_code_changed(page, live_site):
    page.goto(f"{live_site}{page.prefix}/counties/130721/")
    assert page.url.endswith("/counties/130705/?from=130721")
    banner = page.locator(".code-change")
    expected = "130721 宣化县 于 2016 年变更为 130705 宣化区" if page.language == "zh" else "130721 宣化县 became 130705 宣化区 in 2016"
    assert expected in banner.inner_text()
    assert banner.is_visible()
    screenshot(page, f"pages-{page.shot_name}-old-code-banner")
    page.locator(".history a", has_text="130721").first.click()
    page.wait_for_url(re.compile(r"/counties/130705/\?from=130721$"))


def test_no_serious_accessibility_violation(not_found_page, live_site):
    page = not_found_page
    axe = Axe()
    found = {}
    for name in AXE_PAGES:
        page.goto(f"{live_site}{page.prefix}{PAGES[name]}")
        results = axe.run(page)
        assert results.response["testEngine"]["name"] == "axe-core" and results.response["passes"], name  # it did run
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if serious:
            found[name] = serious
    assert found == {}
