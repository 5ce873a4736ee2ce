"""Charts and wide tables on a phone (375 px), in headless Chromium: no element reaches past the
screen and no table scrolls sideways (wide tables become cards, as the county list's rows do), and
every chart label lies inside its chart (a five-digit axis label lost its first digit at the left
edge). On a desktop the provinces chart uses the page's width. Screenshots go to
test-artifacts/screenshots/."""

import pytest

from .browser import VIEWPORTS, screenshot

pytestmark = pytest.mark.browser

# The pages with a wide table (or charts), in both languages.
WIDE = {
    "county-charts": "/counties/130705/",
    "county-sources": "/counties/430382/",  # two sources, each its own link
    "provinces": "/provinces/",
    "province": "/provinces/430000/",
    "batches": "/batches/",
    "batch": "/batches/2016/",
    "statistics": "/statistics/",
    "data-package": "/data/",  # checksums, 64 characters without a space
}
LANGUAGES = {"zh": "", "en": "/en"}

# What reaches past the right edge of the screen, and what scrolls sideways inside the page.
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().replace(/\\s+/g, '.') : '');
  // Clipped to nothing (the cards' column headers, kept for screen readers; .visually-hidden): not seen.
  const clipped = el => {
    for (let e = el; e; e = e.parentElement) { if (getComputedStyle(e).clip.startsWith('rect')) return true; }
    return false;
  };
  const found = [];
  for (const el of document.querySelectorAll('body *')) {
    if (clipped(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= 0) continue;  // hidden, or off screen on purpose (the skip link)
    if (box.right > width + 0.5) found.push(name(el) + ' reaches ' + Math.round(box.right));
    const style = getComputedStyle(el);
    if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      found.push(name(el) + ' scrolls ' + (el.scrollWidth - el.clientWidth));
    }
  }
  return found.slice(0, 12);
}"""

# Every text of every chart that lies outside its chart, by more than half a pixel.
LABELS_OUTSIDE = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const frame = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const box = text.getBoundingClientRect();
      if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5) {
        out.push(text.textContent + ' at ' + Math.round(box.left - frame.left));
      }
    }
  }
  return out;
}"""


@pytest.fixture(params=list(LANGUAGES))
def phone(request, browser):
    context = browser.new_context(viewport=VIEWPORTS["phone"])
    page = context.new_page()
    page.prefix, page.language = LANGUAGES[request.param], request.param
    yield page
    context.close()


@pytest.mark.parametrize("name", list(WIDE))
def test_wide_tables_and_charts_fit_a_phone(phone, live_site, indicator_values_imported, name):
    phone.goto(f"{live_site}{phone.prefix}{WIDE[name]}")
    screenshot(phone, f"phone-{phone.language}-wide-{name}")
    assert phone.evaluate(TOO_WIDE) == []
    assert phone.evaluate(LABELS_OUTSIDE) == []
    assert phone.locator("table").count() >= 1
    # A card table's caption spans the screen (it was squeezed to a word or two a line).
    widths = phone.evaluate("() => [...document.querySelectorAll('table.cards caption')].map(c => c.getBoundingClientRect().width)")
    assert all(width > 300 for width in widths), widths


def test_a_five_digit_axis_label_is_whole_inside_its_chart(phone, live_site, indicator_values_imported):
    phone.goto(f"{live_site}{phone.prefix}/counties/130705/")
    labels = phone.locator("section.targets svg.chart text[text-anchor=end]")
    texts = labels.all_text_contents()
    assert "60,000" in texts  # the example's transaction volume reaches past 50,000
    chart = phone.locator("section.targets svg.chart").first
    chart.screenshot(path=str(screenshot(phone, f"phone-{phone.language}-county-charts").with_name(f"phone-{phone.language}-axis.png")))
    frame = chart.bounding_box()
    widest = max((labels.nth(i).bounding_box() for i in range(labels.count())), key=lambda box: box["width"])
    assert widest["x"] >= frame["x"]
    assert phone.evaluate(LABELS_OUTSIDE) == []


def test_the_provinces_chart_uses_the_desktop_width(browser, live_site):
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    page.goto(f"{live_site}/statistics/")
    main = page.locator("main").bounding_box()
    charts = page.locator("section[aria-labelledby=h-provinces] svg.chart")
    assert charts.count() == 2
    boxes = [charts.nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["y"] == boxes[1]["y"]  # side by side
    assert boxes[1]["x"] + boxes[1]["width"] - boxes[0]["x"] > 0.9 * (main["width"] - 32)
    screenshot(page, "desktop-zh-statistics-provinces")
    context.close()
