"""Targets and results in headless Chromium: a data officer imports the example file in the admin,
then the county section and the statistics section are read in Chinese and in English, at desktop
and phone widths."""

import re

import pytest

from .browser import ARTIFACTS, VIEWPORTS, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser):
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()


@pytest.mark.parametrize(
    ("prefix", "heading", "status", "language"),
    [("", "目标与成效", "未报告", "zh"), ("/en", "Targets and results", "not reported", "en")],
)
def test_county_section(page, live_site, indicator_values_imported, prefix, heading, status, language):
    page.goto(f"{live_site}{prefix}/counties/130705/")
    section = page.locator("section.targets")
    assert section.locator("h2").inner_text() == heading
    assert section.locator("svg.chart").count() == 5  # one per reported indicator
    assert section.get_by_text(status).count() >= 1
    assert section.locator("tr.status-met").count() >= 2  # 2015 and 2019 met the 30% rule
    screenshot(page, f"{page.viewport_name}-county-targets-{language}")
    section.screenshot(path=str(ARTIFACTS / f"{page.viewport_name}-county-targets-{language}-section.png"))


@pytest.mark.parametrize(
    ("prefix", "heading", "language"),
    [("", "三个全覆盖，截至 2021 年底", "zh"), ("/en", "The three full coverages, end of 2021", "en")],
)
def test_statistics_section(page, live_site, indicator_values_imported, prefix, heading, language):
    page.goto(f"{live_site}{prefix}/statistics/")
    assert page.locator("#h-three-coverages").inner_text() == heading
    national = page.locator("section[aria-labelledby=h-national]")
    assert national.locator("svg.chart").count() == 1
    assert national.locator("td.num", has_text=re.compile(r"^0\.895$")).count() == 1
    assert page.locator("section[aria-labelledby=h-attainment] tbody tr").count() >= 1
    screenshot(page, f"{page.viewport_name}-statistics-targets-{language}")
    for name in ("h-three-coverages", "h-national"):
        page.locator(f"section[aria-labelledby={name}]").screenshot(
            path=str(ARTIFACTS / f"{page.viewport_name}-statistics-{name.removeprefix('h-')}-{language}.png")
        )
