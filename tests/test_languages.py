"""Both languages on every public page type, the error pages and the API docs page (issue 13).

A Chinese page must not show English words (an untranslated msgid, a choice label or a filter
label that never went through gettext), an English page must not show Chinese other than the
names of places and partners, and no page in either language may show developer text (a
command, a file in the repository, a Python identifier, a repository name). Only what a reader
sees is checked: text outside scripts and styles, the <title>, the meta description and the
attributes that browsers show or read out. Text that a page marks as being in another language
(lang="en" on a romanised name, lang="zh-hans" on the language switch, a note or a document
number recorded in the other language: the `recorded` display helper) is in that language on
purpose and is not checked against the page's; developer text is wrong in any language.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from counties import models
from counties.models.programme import POVERTY_SOURCE_NOTE
from counties.models.targets import Assessment, Pairing

from .conftest import run_command

pytestmark = pytest.mark.django_db

EXAMPLE_VALUES = Path(__file__).resolve().parent.parent / "data" / "examples" / "indicator_values_illustrative.csv"

# Every public page type. An old code is followed to the page it redirects to.
PAGES = {
    "home": "/",
    "county list": "/counties/",
    "county list, filtered and sorted": "/counties/?scope=all&province=130000&batch_year=2015-2019&poverty=true&ordering=-first_year",
    "county list, by type": "/counties/?scope=designated&type=county&exit_year=2018&ordering=updated_at",
    "county list, search": "/counties/?scope=all&q=xuanhua",
    "county list, refused filters": "/counties/?batch_year=abc&exit_year=1066",
    "county with targets, assessment and pairing": "/counties/130705/",
    "county by an old code": "/counties/130721/",
    "county that is no poverty county": "/counties/110101/",
    "retired unit with a lineage": "/counties/X632802/",
    "province list": "/provinces/",
    "province": "/provinces/130000/",
    "batch list": "/batches/",
    "batch": "/batches/2016/",
    "partial batch": "/batches/2021/",
    "statistics": "/statistics/",
    "statistics as of 2018": "/statistics/?as_of=2018",
    "statistics, refused as_of": "/statistics/?as_of=abc",
    "page not found": "/no-such-page/",
    "unknown county code": "/counties/999999/",
    "unknown batch": "/batches/2013/",
}

# Latin words a Chinese page may show: names of formats, interfaces and a data set, a licence
# (CC0), all written the same in Chinese, and the search box's example of a pinyin search.
LATIN_IN_CHINESE = {"API", "CSV", "XLSX", "Excel", "JSON", "OpenAPI", "Areacodes", "CC", "xuanhua"}
# An English page may show Chinese names (of places and partners: how the 'names' work shows them
# is its own tests' business), written in full or without their type (宣化 for 宣化区), and text a
# page marks as Chinese (a document number, a note recorded in Chinese).
PLACE_TYPE = re.compile(r"(?:特别行政区|自治区|自治州|自治县|自治旗|行政委员会|行委|地区|林区|特区|省|市|县|区|旗|盟|州)$")

URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|cn|net|org|gov|edu)\b(?:/\S*)?")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}(?:['’-][A-Za-z]+)*")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
CHINESE_PUNCTUATION = re.compile(r"[，。：；！？（）、]")
DEVELOPER_TEXT = {
    "a command": re.compile(r"manage\.py|\bload_[a-z_]+|\bimport_[a-z_]+|--[a-z]"),
    "a file of the repository": re.compile(r"\b[\w/.-]+\.(?:md|py|csv|xlsx|yaml)\b|§"),
    "a Python identifier": re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),
    "a repository name": re.compile(r"\b[A-Za-z][\w.-]*/[A-Za-z][\w.-]+\b|github|gitee", re.IGNORECASE),
}

VISIBLE_ATTRIBUTES = ("title", "alt", "aria-label", "placeholder", "aria-description")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class VisibleText(HTMLParser):
    """Text a reader sees or hears, each piece with the language the page declares for it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []  # (tag, language)
        self.pieces: list[tuple[str, str]] = []

    @property
    def language(self) -> str:
        return self.stack[-1][1] if self.stack else ""

    @property
    def hidden(self) -> bool:
        return any(tag in ("script", "style", "template") for tag, _ in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        language = attributes.get("lang", self.language).lower()
        for name in VISIBLE_ATTRIBUTES:
            if attributes.get(name):
                self.pieces.append((attributes[name], language))
        if tag == "meta" and attributes.get("name") == "description":
            self.pieces.append((attributes.get("content", ""), language))
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.pieces.append((attributes["value"], language))
        if tag not in VOID:
            self.stack.append((tag, language))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() and not self.hidden:
            self.pieces.append((data, self.language))


def visible_text(html: str, page_language: str) -> list[tuple[str, bool]]:
    """The pieces of text, each with whether it is in the page's own language (not marked lang="…" otherwise)."""
    parser = VisibleText()
    parser.feed(html)
    return [(" ".join(text.split()), same_language(language or page_language, page_language)) for text, language in parser.pieces]


def same_language(tag: str, page_language: str) -> bool:
    """zh, zh-hans and zh-cn are the Chinese page's language; zh-latn (pinyin) is not."""
    if page_language.startswith("zh"):
        return tag in ("zh", "zh-hans", "zh-cn")
    return tag.split("-")[0] == page_language.split("-")[0]


def english_in_chinese(pieces: list[str]) -> list[str]:
    found = []
    for piece in pieces:
        words = [w for w in LATIN_WORD.findall(URL.sub(" ", piece)) if w not in LATIN_IN_CHINESE]
        if words:
            found.append(f"{' '.join(words)!r} in {piece!r}")
    return found


def made_of_names(run: str, names: set[str]) -> bool:
    """Whether a run of Chinese characters is one name or several written together (西宁市城西区)."""
    ends = {0}
    for end in range(1, len(run) + 1):
        if any(start in ends and run[start:end] in names for start in range(end)):
            ends.add(end)
    return len(run) in ends


def chinese_in_english(pieces: list[str], names: set[str]) -> list[str]:
    found = []
    for piece in pieces:
        runs = [run for run in HAN.findall(piece) if not made_of_names(run, names)]
        if runs or CHINESE_PUNCTUATION.search(piece):
            found.append(f"{' '.join(runs) or 'Chinese punctuation'!r} in {piece!r}")
    return found


def developer_text(pieces: list[str]) -> list[str]:
    found = []
    for piece in pieces:
        text = URL.sub(" ", piece)
        for what, pattern in DEVELOPER_TEXT.items():
            match = pattern.search(text)
            if match:
                found.append(f"{what} ({match.group(0)!r}) in {piece!r}")
    return found


def names_of_things() -> set[str]:
    """The Chinese names of places and partners, each also without its type (宣化区 → 宣化), and the
    beginnings of province names (广西 of 广西壮族自治区)."""
    places = list(models.Prefecture.objects.values_list("name_zh", flat=True))
    for listed, area in models.PovertyStatus.objects.values_list("listed_name", "contiguous_area"):
        places += [listed, area]
    for name, other in models.Unit.objects.values_list("name_zh", "other_names"):
        places += [name, *other.split(";")]
    names = set(Pairing.objects.values_list("partner_name", flat=True))
    for province in models.Province.objects.values_list("name_zh", flat=True):
        places.append(province)
        names.update(province[:end] for end in range(2, len(province)))
    for place in filter(None, (p.strip() for p in places)):
        stem = PLACE_TYPE.sub("", place)
        names.update((place, stem) if len(stem) >= 2 else (place,))
    return names


def problems(html: str, language: str, names: set[str]) -> list[str]:
    pieces = visible_text(html, language)
    own = [text for text, in_page_language in pieces if in_page_language]
    wrong_language = english_in_chinese(own) if language.startswith("zh") else chinese_in_english(own, names)
    # Developer text is wrong in any language, marked or not.
    return wrong_language + developer_text([text for text, _in_page_language in pieces])


@pytest.fixture
def full_county():
    """130705 宣化区 with reported values (the repository's example), an assessment and a pairing."""
    run_command("import_indicator_values", str(EXAMPLE_VALUES))
    unit = models.Unit.objects.get(key="130705")
    designation = models.Designation.objects.counted().filter(unit__key__in=("130705", "130721")).first()
    year = designation.batch.year + 2
    Assessment.objects.create(
        designation=designation, year=year, result="excellent", score=Decimal("95"), source="冀商函〔2018〕7号", source_kind="official"
    )
    Pairing.objects.create(
        unit=unit, partner_name="某电商平台", partner_kind="platform", start_year=2018, source="冀商函〔2018〕8号", source_kind="official"
    )
    return unit


@pytest.mark.usefixtures("full_county")
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("name", PAGES)
def test_every_page_speaks_one_language_to_the_public(client, name, language):
    path = PAGES[name] if language == "zh-hans" else "/en" + PAGES[name]
    response = client.get(path, follow=True)
    assert response.status_code in (200, 400, 404), (path, response.status_code)
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert problems(html, language, names_of_things()) == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("template", ["404.html", "500.html", "503.html"])
def test_error_pages_speak_one_language(rf: RequestFactory, template, language):
    request = rf.get("/")
    with translation.override(language):
        html = render_to_string(template, {"request": request}, request=request)
    assert problems(html, language, set()) == []


@pytest.mark.parametrize(("accept", "language"), [("zh-CN,zh;q=0.9", "zh-hans"), ("en", "en")])
def test_api_docs_page_speaks_the_requested_language(client, accept, language):
    html = client.get("/api/v1/docs/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert problems(html, language, set()) == []


# -- the checks themselves ------------------------------------------------------------------------


def test_the_checks_catch_what_they_are_meant_to():
    names = {"宣化区"}
    assert problems('<html lang="zh-hans"><p>排序：<option>First year</option></p></html>', "zh-hans", names)
    assert problems('<html lang="zh-hans"><p>中央 (descending)</p></html>', "zh-hans", names)
    assert problems('<html lang="en"><p>Level: 中部</p></html>', "en", names)
    assert problems('<html lang="en"><p>Total，5 元</p></html>', "en", names)
    assert problems('<html lang="zh-hans"><p>来源：manage.py load_illustrative_roster</p></html>', "zh-hans", names)
    assert problems('<html lang="en"><p>see data/PROVENANCE.md §2</p></html>', "en", names)
    assert problems('<html lang="en"><p>via yescallop/areacodes</p></html>', "en", names)
    assert problems('<html lang="en"><p>Filter <code>batch_year</code></p></html>', "en", names)
    assert problems('<html lang="en"><title>统计</title></html>', "en", names)
    assert problems('<html lang="en"><meta name="description" content="示范县"></html>', "en", names)
    assert problems('<html lang="zh-hans"><nav aria-label="Main"></nav></html>', "zh-hans", names)
    # What a page may show: names, a romanised name marked as English, scripts, URLs, formats.
    fine = (
        '<html lang="zh-hans"><h1>宣化区 <span lang="en">Xuanhua District</span></h1><script>var x_y = 1;</script>'
        '<a href="https://example.com/a_b">https://example.com/a_b.html</a> CSV · Excel (XLSX) · API</html>'
    )
    assert problems(fine, "zh-hans", names) == []
    assert problems('<html lang="en"><h1>宣化区 Xuanhua District</h1><a lang="zh-hans">简体中文</a></html>', "en", names) == []


# -- what the checks cannot see: the right one of two meanings, and records written before the fix --


def test_central_funding_is_zhongyang_and_the_central_region_zhongbu(client):
    """'central' is two words in Chinese: the funding level 中央 and the region 中部."""
    funded = models.FundingAllocation.objects.filter(level="central", unit__poverty_status__region="central").select_related("unit").first()
    html = client.get(f"/counties/{funded.unit.key}/").content.decode()
    assert "<dt>地区</dt><dd>中部</dd>" in html
    assert '<td data-label="层级">中央</td>' in html and ">中部</td>" not in html
    english = client.get(f"/en/counties/{funded.unit.key}/").content.decode()
    assert "<dt>Region</dt><dd>central</dd>" in english and '<td data-label="Level">central</td>' in english


def test_sort_menu_is_translated(client):
    html = client.get("/counties/").content.decode()
    assert '<option value="first_year">启用年份（升序）</option>' in html
    assert '<option value="-updated_at">更新时间（降序）</option>' in html


def test_roster_records_of_an_earlier_wording_get_the_public_one():
    from counties.writes.roster import FORMER_ROSTER_SOURCES, ROSTER_SOURCE, load_illustrative_roster

    illustrative = models.Designation.objects.filter(source_kind="illustrative")
    old = list(illustrative.order_by("pk")[:3])
    illustrative.filter(pk__in=[d.pk for d in old]).update(source=FORMER_ROSTER_SOURCES[0])
    report = load_illustrative_roster()
    assert (report.created, report.removed, report.restated) == (0, 0, 3)
    for designation in old:
        designation.refresh_from_db()
        assert designation.source == ROSTER_SOURCE
        assert designation.history.first().history_change_reason == "illustrative roster: its source reworded for the public"
    assert load_illustrative_roster().restated == 0


def test_a_batch_note_is_read_in_the_page_language(client):
    chinese = client.get("/batches/2016/").content.decode()
    english = client.get("/en/batches/2016/").content.decode()
    assert "仅见于一份政策综述，未经核实" in chinese and "come only from a policy summary" not in chinese
    assert "come only from a policy summary and are not verified" in english


def test_the_sources_the_registry_writes_are_said_in_the_page_language(client):
    chinese = client.get("/counties/130705/").content.decode()
    english = client.get("/en/counties/130705/").content.decode()
    assert "国务院扶贫开发领导小组办公室公布的 832 个国家级贫困县名单" in chinese
    assert "the list of the 832 national poverty counties published by the State Council Leading Group Office" in english
    assert "示意名单：为吻合公布的批次数据而编制，并非官方记录" in chinese
    assert "illustrative roster made to reproduce the published figures, not an official record" in english


# -- the staff site, as a data officer walks it ------------------------------------------------------

# What a Chinese admin page may show in Latin letters besides LATIN_IN_CHINESE: the staff members'
# user names (chosen by them), file formats as the import menu names them, the keys a user presses
# (Django's own Chinese names them so), and the alt text of Django's yes/no icons, which Django
# writes in English in every language (the icon is what a sighted reader sees).
LATIN_IN_CHINESE_ADMIN = LATIN_IN_CHINESE | {"officer", "admin", "csv", "xlsx", "UTF", "Control", "Mac", "Command", "True", "False", "None"}
# Shown as codes in any language: an import file's column names (in <code>), a password's hash
# algorithm and its masked hash (on a user's page), and a data set's name.
ADMIN_CODES = re.compile(r"<code>.*?</code>|Clebeech/ds_project|\bmd5\b|\bpbkdf2_sha256\b|\b\w+\*{4,}", re.DOTALL)
# Text stored in both languages, Chinese first ("中央财政示范县专项资金 / central funds …"): a reader of
# either language finds their own.
CHINESE_FIRST = re.compile(r"^[^A-Za-z]*[\u4e00-\u9fff][^A-Za-z]* / [^\u4e00-\u9fff]+$")


def admin_pages() -> dict[str, str]:
    """The pages a data officer opens: the index, the dashboard, the change log, the records they
    keep (list, record, its history), the imports, and the accounts an administrator sets up."""
    from django.contrib.auth.models import Group, User

    illustrative = models.Designation.objects.filter(source_kind="illustrative").order_by("pk").first()
    funding = models.FundingAllocation.objects.order_by("pk").first()
    # A record's own notes are recorded in the language they were written in (here one with none).
    poverty = models.PovertyStatus.objects.filter(source_note=POVERTY_SOURCE_NOTE, category_source="").order_by("pk").first()
    officer = User.objects.get(username="officer")
    profile = models.StaffProfile.objects.get(user=officer)
    group = Group.objects.order_by("pk").first()
    return {
        "index": "/admin/",
        "dashboard": "/admin/dashboard/",
        "change log": "/admin/changes/",
        "designations": "/admin/counties/designation/",
        "an illustrative designation": f"/admin/counties/designation/{illustrative.pk}/change/",
        "its history": f"/admin/counties/designation/{illustrative.pk}/history/",
        "funding": "/admin/counties/fundingallocation/",
        "a funding allocation": f"/admin/counties/fundingallocation/{funding.pk}/change/",
        "its history ": f"/admin/counties/fundingallocation/{funding.pk}/history/",
        "its state on a day": f"/admin/counties/designation/{illustrative.pk}/as-of/?date=2030-01-01",
        "a unit, with its records": "/admin/counties/unit/130705/change/",
        "a poverty county": f"/admin/counties/povertystatus/{poverty.pk}/change/",
        "import designations": "/admin/counties/designation/import/",
        "staff profiles": "/admin/counties/staffprofile/",
        "a staff profile": f"/admin/counties/staffprofile/{profile.pk}/change/",
        "users": "/admin/auth/user/",
        "a user": f"/admin/auth/user/{officer.pk}/change/",
        "roles": "/admin/counties/role/",
        "a role": f"/admin/counties/role/{group.pk}/change/",
    }


@pytest.fixture
def officer_edits(admin_user):
    """A provincial editor with a profile, and one change of a funding allocation by a person."""
    from django.contrib.auth.models import Group, User

    from counties.models.staff import PROVINCIAL_EDITORS
    from counties.writes import services

    officer = User.objects.create_user("officer", password="pw", is_staff=True)
    officer.groups.add(Group.objects.get(name=PROVINCIAL_EDITORS))
    models.StaffProfile.objects.create(user=officer, province=models.Province.objects.get(code="130000"))
    funding = models.FundingAllocation.objects.order_by("pk").first()
    funding.amount += 1
    services.save_record(funding, user=admin_user, reason="核对金额")


@pytest.mark.usefixtures("officer_edits")
def test_the_staff_site_speaks_chinese_to_a_chinese_reader(admin_client):
    found = {}
    for name, path in admin_pages().items():
        response = admin_client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        html = ADMIN_CODES.sub(" ", response.content.decode())
        pieces = [text for text, in_page_language in visible_text(html, "zh-hans") if in_page_language]
        for piece in filter(lambda p: not CHINESE_FIRST.match(p), pieces):
            words = [w for w in LATIN_WORD.findall(URL.sub(" ", piece)) if w not in LATIN_IN_CHINESE_ADMIN]
            if words:
                found.setdefault(name, []).append(f"{' '.join(words)!r} in {piece!r}")
    assert found == {}


def test_the_two_box_selector_of_roles_and_permissions_speaks_chinese(admin_client):
    """Django's selector (SelectFilter2.js, on a user's and a role's page) writes its words with the
    admin's script catalogue; Django's own Chinese lacks some ("Choose %s by selecting them…"), which
    locale/zh_Hans/LC_MESSAGES/djangojs.po gives."""
    import json

    import django.contrib.admin

    script = Path(django.contrib.admin.__file__).parent / "static" / "admin" / "js" / "SelectFilter2.js"
    used = set(re.findall(r"gettext\('((?:[^'\\]|\\.)*)'\)", script.read_text()))
    used = {msgid.replace("\\'", "'") for msgid in used}
    catalogue_js = admin_client.get("/admin/jsi18n/").content.decode()
    catalogue = json.loads(re.search(r"const newcatalog = (\{.*?\});", catalogue_js, re.DOTALL).group(1))
    assert sorted(msgid for msgid in used if not HAN.search(str(catalogue.get(msgid, "")))) == []
    assert catalogue['Choose %s by selecting them and then select the "Choose" arrow button.'] == "选中要添加的%s，再点击“选择”箭头按钮。"
