"""The change feed in words for people (/changes/ and /changes/atom/): every kind and action named
in the reader's language, indicator values as the site writes figures, removed records named by
what they were, and an Atom 1.0 feed with an author, IRIs for ids and its own id when filtered."""

import re
from decimal import Decimal

import pytest
from django.utils import translation

from counties import models
from counties.models import Change
from counties.reads import changes as feed_reads
from counties.reads.changes import KIND_LABELS, in_words
from counties.reads.public_records import KINDS
from counties.writes import services

pytestmark = [pytest.mark.django_db]


@pytest.mark.parametrize("kind_name", [kind.name for kind in KINDS])
def test_every_public_kind_is_named_in_both_languages(kind_name):
    assert kind_name in KIND_LABELS, f"{kind_name} has no label in counties.reads.changes.KIND_LABELS"
    with translation.override("en"):
        english = str(KIND_LABELS[kind_name])
    with translation.override("zh-hans"):
        chinese = str(KIND_LABELS[kind_name])
    assert english != kind_name and "_" not in english
    assert chinese != english and "_" not in chinese and re.search(r"[\u4e00-\u9fff]", chinese)
    # and in_words says it so, for every action
    change = Change(id=1, kind=kind_name, key="x", action="changed", record=None, province="")
    with translation.override("zh-hans"):
        (item,) = in_words([change])
    assert item.kind_label == chinese and item.action_label == "修改"


def test_the_new_kinds_have_the_words_asked_for():
    with translation.override("zh-hans"):
        assert [str(KIND_LABELS[k]) for k in ("lifecycle_record", "listed_poverty_county")] == ["认定过程记录", "贫困县名单条目"]
    with translation.override("en"):
        assert [str(KIND_LABELS[k]) for k in ("lifecycle_record", "listed_poverty_county")] == [
            "Lifecycle record",
            "Entry of the list of 832",
        ]


def write_indicator_value() -> tuple[models.Indicator, Change]:
    unit = models.Unit.objects.get(code="130705")
    indicator = models.Indicator.objects.order_by("pk").first()
    before = feed_reads.latest_change_id()
    value = models.IndicatorValue(unit=unit, indicator=indicator, year=2017, value=Decimal("100.5"), source="t", source_kind="official")
    services.save_record(value, user=None, reason="words")
    return indicator, Change.objects.get(id__gt=before, kind="indicator_value")


def test_an_indicator_value_names_its_indicator_and_writes_its_value_as_the_site_does(client):
    indicator, change = write_indicator_value()
    assert change.record["value"] == "100.5000"  # what the API gives, unchanged
    with translation.override("zh-hans"):
        (item,) = in_words([change])
    unit_zh = f" {indicator.unit_zh}" if indicator.unit_zh else ""
    assert item.title == f"宣化区 (130705)，{indicator.name_zh}，2017年：100.5{unit_zh}"
    assert "," not in item.title and indicator.code not in item.title
    with translation.override("en"):
        (item,) = in_words([change])
    unit_en = f" {indicator.unit_en}" if indicator.unit_en else ""
    english_name = models.Unit.objects.get(code="130705").name_en
    assert item.title == f"{english_name} (130705), {indicator.name_en}, 2017: 100.5{unit_en}"
    page = client.get("/changes/").content.decode()
    assert f'指标值新增：<a href="/counties/130705/">宣化区 (130705)，{indicator.name_zh}' in page
    assert "100.5000" not in page


def test_a_removed_record_is_named_by_what_it_was():
    indicator = models.Indicator.objects.order_by("pk").first()
    old, name_zh, name_en = indicator.code, indicator.name_zh, indicator.name_en
    before = feed_reads.latest_change_id()
    indicator.code = "renamed_indicator"
    services.save_record(indicator, user=None, reason="renamed")
    tombstone = Change.objects.get(id__gt=before, action="deleted")
    assert (tombstone.key, tombstone.record) == (old, None)
    succession = models.UnitSuccession.objects.select_related("predecessor").filter(predecessor__code="130721").order_by("pk").first()
    year, successor = succession.year, succession.successor_code
    after = feed_reads.latest_change_id()
    services.delete_record(succession, user=None, reason="wrong")
    gone = Change.objects.get(id__gt=after, kind="succession", action="deleted")
    never_seen = Change(id=10**9, kind="pairing", key="267", action="deleted", record=None, province="")
    with translation.override("zh-hans"):
        titles = [item.title for item in in_words([tombstone, gone, never_seen])]
    assert titles == [name_zh, f"宣化县 (130721) → {successor}（{year}年）", "#267"]
    with translation.override("en"):
        assert in_words([tombstone])[0].title == name_en


def test_the_page_names_removed_records_and_indicators_in_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    write_indicator_value()
    for succession in models.UnitSuccession.objects.order_by("pk")[:3]:
        services.delete_record(succession, user=None, reason="wrong")
    # the data token, the provinces, the changes, the removed records, their units, batches and indicators
    with django_assert_max_num_queries(10):
        page = client.get("/en/changes/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("Code change removed: <a") == 3
    assert not re.search(r"Code change removed: #\d", text)


# -- the Atom feed ------------------------------------------------------------------------------------


def test_the_atom_title_names_the_place_in_the_readers_language(client):
    unit = models.Unit.objects.get(code="130705")
    chinese = client.get("/changes/atom/", {"county": "130705"}).content.decode()
    assert "<title>示范县名录的变更：宣化区</title>" in chinese
    english = client.get("/en/changes/atom/", {"county": "130705"}).content.decode()
    assert f"<title>Changes to the demonstration county registry: {unit.name_en}</title>" in english
    assert "宣化区</title>" not in english
    province = models.Province.objects.get(code="430000")
    assert f"<title>Changes to the demonstration county registry: {province.name_en}</title>" in (
        client.get("/en/changes/atom/", {"province": "430000"}).content.decode()
    )


def test_the_atom_feed_is_valid_atom(client):
    body = client.get("/en/changes/atom/").content.decode()
    assert "<author><name>Demonstration county registry</name></author>" in body
    assert "<id>http://testserver/en/changes/atom/</id>" in body
    assert '<link href="http://testserver/en/changes/atom/" rel="self"/>' in body
    entry_ids = re.findall(r"<entry>.*?<id>(.*?)</id>", body)
    assert entry_ids and all(re.fullmatch(r"http://testserver/en/changes/#change-\d+", i) for i in entry_ids)
    assert len(set(entry_ids)) == len(entry_ids)
    assert "<name>示范县名录</name>" in client.get("/changes/atom/").content.decode()


def test_a_filtered_atom_feed_has_its_own_id_and_self_link(client):
    body = client.get("/en/changes/atom/", {"province": "430000"}).content.decode()
    assert "<id>http://testserver/en/changes/atom/?province=430000</id>" in body
    assert '<link href="http://testserver/en/changes/atom/?province=430000" rel="self"/>' in body
    assert '<link href="http://testserver/en/changes/?province=430000" rel="alternate"/>' in body
    by_county = client.get("/changes/atom/", {"county": "130721"}).content.decode()
    assert "<id>http://testserver/changes/atom/?county=130721</id>" in by_county


@pytest.mark.parametrize(
    ("language", "query", "said"),
    [
        ("en", {"province": "999"}, "999 is not the code of a province."),
        ("en", {"county": "nonsense"}, "No county-level unit has the code nonsense."),
        ("zh-hans", {"province": "999"}, "999 不是省份代码。"),
    ],
)
def test_a_bad_filter_on_the_atom_feed_is_a_400_naming_it(client, language, query, said):
    prefix = "/en" if language == "en" else ""
    response = client.get(f"{prefix}/changes/atom/", query)
    assert response.status_code == 400
    assert said in response.content.decode()
    page = client.get(f"{prefix}/changes/", query)
    assert page.status_code == 400 and said in page.content.decode()
