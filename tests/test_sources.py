"""A record's source: every URL its own link, the government source first and any other site marked,
and a source that would make one broken link (two URLs glued, a URL with text or a space) refused
by the one rule (`models.sources_separated`) through the service, the imports and the loaders."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.template import Context, Template

from counties import models
from counties.writes import services

from .conftest import run_command
from .factories import HEADER, csv_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HUNAN_GOVERNMENT = "http://swt.hunan.gov.cn/swt/hnswt/zt/xysytx/fwmyzn/201711/t20171124_4848045.html"
HUNAN_COPY = "http://elitesmokeshopnj.com/news/20151104/36359.html"
GLUED = {
    "two URLs with a space": ("http://a.example/x http://b.gov.cn/y", "holds 2 URLs"),
    "two URLs with no space": ("http://a.example/xhttp://b.gov.cn/y", "holds 2 URLs"),
    "a semicolon without spaces": ("http://a.example/x;http://b.gov.cn/y", "holds 2 URLs"),
    "text before a URL": ("see http://b.gov.cn/y", "has text before its URL"),
    "a URL with a space": ("http://b.gov.cn/a page", "holds a space (at position 18)"),
}


def links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]+)" rel="nofollow noopener">([^<]+)</a>', html)


@pytest.mark.parametrize("path", ["/counties/430382/", "/en/counties/430382/"])
def test_each_source_url_is_its_own_link_the_government_one_first(client, path):
    page = client.get(path).content.decode()
    designations = page[page.index("<h2>Demonstration designations" if "/en/" in path else "<h2>示范县入选情况") :]
    designations = designations[: designations.index("</table>")]
    assert links(designations) == [(HUNAN_GOVERNMENT, "swt.hunan.gov.cn"), (HUNAN_COPY, "elitesmokeshopnj.com")]
    marked = " (not a government site)" if "/en/" in path else "（非政府网站）"  # the page's own brackets
    assert f'elitesmokeshopnj.com</a><span class="hint">{marked}</span>' in designations
    assert "swt.hunan.gov.cn</a><span" not in designations  # the government source is not marked
    assert " ; " not in designations


def test_a_source_of_text_and_urls_keeps_its_text_and_links_each_url():
    value = "商建函〔2015〕1号 ; http://news.example.com/a.html ; https://www.mofcom.gov.cn/b.html"
    html = Template("{% load registry %}{% sources value %}").render(Context({"value": value}))
    assert links(html) == [("https://www.mofcom.gov.cn/b.html", "mofcom.gov.cn"), ("http://news.example.com/a.html", "news.example.com")]
    assert html.index("mofcom.gov.cn") < html.index("商建函〔2015〕1号") < html.index("news.example.com")
    assert html.count("<li>") == 3


def test_a_single_source_is_shown_without_a_list():
    html = Template("{% load registry %}{% sources value %}").render(Context({"value": HUNAN_COPY}))
    assert (
        html == f'<a href="{HUNAN_COPY}" rel="nofollow noopener">elitesmokeshopnj.com</a><span class="hint"> (not a government site)</span>'
    )


def test_a_part_with_a_semicolon_inside_is_not_split():
    value = "catalog entry (secondary; cites MOFCOM pages) ; http://m.sgcio.com/icontent/100/11558.html"
    assert models.source_parts(value) == ["catalog entry (secondary; cites MOFCOM pages)", "http://m.sgcio.com/icontent/100/11558.html"]
    models.sources_separated(value)  # accepted


@pytest.mark.parametrize(
    ("url", "government"),
    [
        (HUNAN_GOVERNMENT, True),
        ("https://www.gov.cn/zhengce/x.html", True),
        ("https://www.mofcom.gov.cn/a.html", True),
        (HUNAN_COPY, False),
        ("http://gov.cn.example.com/a", False),
        ("http://notgov.cn/a", False),
    ],
)
def test_a_government_source_is_a_gov_cn_site(url, government):
    assert models.is_government_url(url) is government


@pytest.mark.parametrize(("value", "message"), GLUED.values(), ids=GLUED.keys())
def test_the_rule_refuses_a_part_that_would_be_one_broken_link(value, message):
    with pytest.raises(ValidationError) as error:
        models.sources_separated(f"商建函〔2015〕1号 ; {value}")
    assert message in str(error.value.message % error.value.params)
    assert "part 2" in str(error.value.message % error.value.params).lower()


@pytest.mark.parametrize(("value", "message"), GLUED.values(), ids=GLUED.keys())
def test_the_service_refuses_a_glued_source_and_writes_nothing(value, message):
    designation = models.Designation.objects.filter(unit__code="430382").get()
    before = designation.source
    designation.source = value
    with pytest.raises(services.SourceRefused) as error:
        services.save_record(designation, user=None, reason="a glued source")
    assert message in str(error.value.message % error.value.params)
    assert "韶山市" in str(error.value.message % error.value.params)  # the record is named
    designation.refresh_from_db()
    assert designation.source == before


def test_the_bulk_service_refuses_a_glued_source_as_the_loaders_write(settings):
    unit = models.Unit.objects.get(code="110101")
    record = models.FundingAllocation(
        unit=unit, fiscal_year=2016, level="central", amount=1, source=GLUED["two URLs with a space"][0], source_kind="secondary"
    )
    before = models.FundingAllocation.objects.count()
    with pytest.raises(services.SourceRefused, match="holds 2 URLs"):
        services.write_records(models.FundingAllocation, [record], [], fields=[], user=None, reason="loader")
    assert models.FundingAllocation.objects.count() == before


def test_the_import_refuses_a_glued_source_on_its_row(tmp_path):
    content = HEADER + "110105,2016,new,doc,official\n110101,2016,new,http://a.example/x http://b.gov.cn/y,secondary\n"
    with pytest.raises(CommandError) as error:
        run_command("import_designations", str(csv_file(tmp_path, content)))
    assert "row 2: source:" in str(error.value) and "holds 2 URLs" in str(error.value)
    assert not models.Designation.objects.filter(unit__code__in=["110101", "110105"], batch__year=2016).exists()


def test_the_api_refuses_a_glued_source(client, admin_user):
    designation = models.Designation.objects.filter(unit__code="430382").get()
    _, key = models.ApiToken.issue(admin_user, "editor", can_write=True)
    response = client.patch(
        f"/api/v1/designations/{designation.pk}/?reason=glued",
        {"source": "http://a.example/x http://b.gov.cn/y"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 400, response.content
    assert "holds 2 URLs" in response.content.decode()
