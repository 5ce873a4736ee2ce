"""REST API v1: endpoints, filters, pagination, formats, conditional GET, tokens, throttling, CORS."""

import csv
import io
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from counties import models
from counties.reads import statistics
from counties.reads.places import place_resolver
from counties.writes.services import delete_record, record_lifecycle, save_record

from .conftest import run_command
from .factories import designation_payload

pytestmark = pytest.mark.django_db
API = "/api/v1"


def get(client, path, **environ):
    return client.get(f"{API}/{path}", **environ)


# -- endpoints ---------------------------------------------------------------------------------

LISTS = ["counties/", "provinces/", "batches/", "designations/", "funding-allocations/", "poverty-statuses/"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_with_a_page(client, path):
    response = get(client, path)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results", "includes_illustrative"}
    assert body["count"] > 0


def test_details(client):
    assert get(client, "counties/130705/").json()["name_zh"] == "宣化区"
    assert get(client, "provinces/130000/").json()["name_en"] == "Hebei Province"
    batch = models.Batch.objects.get(year=2016)
    assert get(client, f"batches/{batch.pk}/").json()["planned_size"] == 240
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    assert get(client, f"designations/{designation.pk}/").json()["source_kind"] == "secondary"


def test_unit_detail_query_count(client, django_assert_num_queries):
    # conditional-GET token, the unit, its successions, its earlier codes (lineage), its place's
    # poverty statuses and designations
    for key in ("130705", "X632801"):
        with django_assert_num_queries(6):
            assert get(client, f"counties/{key}/").status_code == 200


def test_province_and_prefecture_objects_carry_english_and_short_names(client):
    korla = get(client, "counties/652801/").json()
    assert (korla["name_pinyin"], korla["name_en"]) == ("Ku'erle Shi", "Korla City")
    assert korla["province"] == {
        "code": "650000",
        "name_zh": "新疆维吾尔自治区",
        "name_en": "Xinjiang Uygur Autonomous Region",
        "short_name_zh": "新疆",
        "short_name_en": "Xinjiang",
    }
    assert korla["prefecture"] == {"code": "652800", "name_zh": "巴音郭楞蒙古自治州", "name_en": "Bayingolin Mongol Autonomous Prefecture"}
    province = get(client, "provinces/450000/").json()
    assert (province["short_name_zh"], province["short_name_en"], province["name_pinyin"]) == ("广西", "Guangxi", "Guangxi")
    row = next(p for p in get(client, "stats/provinces/").json() if p["code"] == "640000")
    assert (row["short_name_zh"], row["short_name_en"]) == ("宁夏", "Ningxia")


def test_old_code_detail_finds_the_retired_unit_and_what_it_became(client):
    body = get(client, "counties/130721/").json()
    assert (body["name_zh"], body["in_use"], body["current"]) == ("宣化县", False, "130705")
    assert [s["successor_code"] for s in body["successors"] if s["is_primary"]] == ["130705"]


@pytest.mark.parametrize("path", ["counties/999999/", "counties/abc/", "no-such-thing/", "designations/999999999/"])
def test_unknown_is_a_json_404(client, path):
    response = get(client, path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_illustrative_pages_say_so(client):
    body = get(client, "designations/?batch_year=2017&page_size=5").json()
    assert body["includes_illustrative"] is True
    assert "not official" in body["notice"]
    real = get(client, "designations/?source_kind=secondary").json()
    assert real["includes_illustrative"] is False and "notice" not in real


# -- filters -----------------------------------------------------------------------------------


def keys(client, query):
    response = get(client, f"counties/?page_size=1000&{query}")
    assert response.status_code == 200, response.json()
    return [row["key"] for row in response.json()["results"]]


def count(client, path):
    response = get(client, path)
    assert response.status_code == 200, response.json()
    return response.json()["count"]


def test_poverty_counts_the_832_as_places_by_default_and_as_listed_or_every_code_on_request(client):
    """The pages' scope choice (places, units under their own code, every code) as `count_as`."""
    as_listed = set(models.PovertyStatus.objects.values_list("unit__key", flat=True))
    assert len(as_listed) == 832
    places = keys(client, "poverty=true")
    assert len(places) == len(set(places))
    # 832 poverty counties in 831 places at end-2021: 冷湖 X632801 and 茫崖 X632802 formed one,
    # 茫崖市 632803, in 2018. 宣化县 130721 is counted as 宣化区 130705, 黔西县 520522 as 黔西市 520581.
    assert len(places) == 831
    assert {"632803", "130705", "520581", "610981", "X632803"} <= set(places)
    assert not {"X632801", "X632802", "130721", "520522", "610928"} & set(places)
    # Places as of the list's year-end, end-2021: 米林县 540422 and 错那县 540530 became 米林市 and
    # 错那市 in 2023, so two of the 831 are no longer in use today (main answered 827 here: the four
    # codes created after 2020 were missing, and the county list counted every code).
    assert {"540422", "540530"} <= set(places)
    assert count(client, "counties/?poverty=true&in_use=true") == 831 - 2
    assert count(client, "counties/?poverty=false") == 3078 - 831
    # As listed: exactly the 832 of the reference list, under the codes they were listed with.
    assert set(keys(client, "poverty=true&count_as=units")) == as_listed
    # Every code: the listed ones and every unit they became (the lineage closure, worked out
    # another way), 896 = 892 on main + the four codes created after 2020.
    every = keys(client, "poverty=true&count_as=codes")
    became = set(models.UnitLineage.objects.filter(ancestor__poverty_status__isnull=False).values_list("descendant__key", flat=True))
    assert set(every) == as_listed | became
    assert len(every) == 896
    # Every code of the 832 that is in use today: each place has one, 茫崖市 holding two.
    assert count(client, "counties/?poverty=true&count_as=codes&in_use=true") == 831
    # An unknown way of counting is refused, not ignored.
    assert get(client, "counties/?poverty=true&count_as=entries").status_code == 400


def test_a_place_formed_from_two_poverty_counties_lists_both(client):
    """茫崖市 632803 formed in 2018 from 冷湖行委 and 茫崖行委, both among the 832: main listed only 冷湖."""
    record = get(client, "counties/632803/").json()
    assert [(p["listed_as"], p["listed_name"]) for p in record["poverty"]] == [("X632801", "冷湖行委"), ("X632802", "茫崖行委")]
    listed = get(client, "counties/?code=632803").json()["results"]
    assert [p["listed_as"] for p in listed[0]["poverty"]] == ["X632801", "X632802"]
    assert get(client, "counties/110101/").json()["poverty"] == []  # 东城区: none


def test_the_successor_of_a_code_retired_after_2020_answers(client):
    """黔西县 520522 became 黔西市 520581 in 2021: main answered 404 for the successor it named."""
    record = get(client, "counties/520522/").json()
    assert (record["in_use"], record["current"], record["last_year"]) == (False, "520581", 2020)
    successor = get(client, "counties/520581/").json()
    assert (successor["in_use"], successor["first_year"], successor["name_zh"]) == (True, 2021, "黔西市")
    # The poverty county listed as 黔西县 is 黔西市's.
    assert [p["listed_as"] for p in successor["poverty"]] == ["520522"]
    danzhou = get(client, "counties/460400/").json()
    assert (danzhou["unit_type"], danzhou["first_year"]) == ("prefecture-level city", 2015)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("province=640000", 22),  # Ningxia: every unit in use at any year-end 2014-2020
        ("prefecture=130700&in_use=true", 16),
        ("type=banner&province=150000", 49),
        # The 28 counties that exited in 2016, as places (four under the code they became: 武隆区
        # 500156, 乃东区 540502, 巴宜区 540402 (林芝县) and 巴里坤 650521, re-coded with its prefecture),
        ("exit_year=2016", 28),
        # and every code: the 28 listed and the 4 units four of them became.
        ("exit_year=2016&count_as=codes", 32),
        ("exit_year=2016&count_as=units", 28),
        # 208 codes retired 2015-2020, 20 more retired since (e.g. 黔西县 in 2021), the two merged 行委
        ("in_use=false", 230),
    ],
)
def test_unit_filters(client, query, expected):
    assert count(client, f"counties/?{query}") == expected


def places_of(units):
    """The keys of the places `units` had become by the end of the latest batch year, 2021 (the
    list's year-end: 米林县, retired in 2023, is its own place then)."""
    resolver = place_resolver()
    keys_of = dict(models.Unit.objects.values_list("pk", "key"))
    return {keys_of[resolver.place(pk, 2021)] for pk in units.values_list("pk", flat=True)}


def designated_in(*years):
    """The places designated in `years` (under any of their codes), and the units designated then
    under their own code."""
    units = (
        models.Unit.objects.filter(designations__batch__year__in=years)
        .filter(designations__in=models.Designation.objects.counted())
        .distinct()
    )
    return places_of(units), set(units.values_list("key", flat=True))


def test_batch_year_one_several_or_a_range(client):
    places, units = designated_in(2014)
    assert count(client, "counties/?batch_year=2014") == len(places) == 56
    # 56 entries; 4 of the 56 units have since become another unit: 60 codes.
    assert count(client, "counties/?batch_year=2014&count_as=units") == len(units) == 56
    assert count(client, "counties/?batch_year=2014&count_as=codes") == len(places | units) == 56 + 4
    assert count(client, "counties/?batch_year=2014,2016") == len(designated_in(2014, 2016)[0])
    assert count(client, "counties/?batch_year=2014-2016") == len(designated_in(2014, 2015, 2016)[0])


def test_batch_year_2014_to_2018_counts_the_1016_places(client):
    """The published 1,016 counties of the first five batches are places; main answered 1,039, places
    and retired codes mixed. The 1,016 batch entries name 1,016 units (none twice), 28 of which have
    since become another unit: 1,044 codes in all."""
    places, units = designated_in(2014, 2015, 2016, 2017, 2018)
    assert count(client, "counties/?batch_year=2014-2018") == len(places) == 1016 == statistics.coverage(2018).demonstration_counties
    assert count(client, "counties/?batch_year=2014-2018&count_as=units") == len(units) == 1016
    assert count(client, "counties/?batch_year=2014-2018&count_as=codes") == len(places | units) == 1016 + 28


def test_designated_counts_places_and_designated_unit_counts_codes(client):
    units = models.Unit.objects.filter(designations__isnull=False).filter(designations__in=models.Designation.objects.counted()).distinct()
    places = places_of(units)
    assert units.count() > len(places)  # more codes than places: some were designated under two codes
    # designated=true is the home page's number of demonstration counties; designated_unit the codes.
    assert count(client, "counties/?designated=true") == len(places) == statistics.coverage().demonstration_counties
    assert count(client, "counties/?designated=false") == 3078 - len(places)
    assert count(client, "counties/?designated_unit=true") == units.count() == statistics.coverage().designated_units
    assert count(client, "counties/?designated_unit=false") == 3078 - units.count()


def test_the_place_filters_within_a_province_send_that_provinces_ids_only(client):
    """With a province chosen, designated and designated_unit send the database that province's
    share of the list index's sets (a few hundred ids, not every province's), and select the same
    units as the province's share of the whole list does, either way round."""
    units = models.Unit.objects.filter(designations__isnull=False).filter(designations__in=models.Designation.objects.counted()).distinct()
    places = set(units.values_list("current__key", flat=True))
    hebei = set(models.Unit.objects.filter(province__code="130000").values_list("key", flat=True))
    for name, chosen in (("designated", places), ("designated_unit", set(units.values_list("key", flat=True)))):
        with CaptureQueriesContext(connection) as queries:
            found = set(keys(client, f"province=130000&{name}=true"))
        assert found == chosen & hebei and len(found) > 50
        listed = max((q["sql"] for q in queries), key=len)
        assert len(re.findall(r"\d+", listed)) < 2 * len(found)  # not the 1,000-odd ids of every province
        assert set(keys(client, f"province=130000&{name}=false")) == hebei - chosen


def test_code_filter_returns_the_unit_and_its_successor(client):
    assert set(keys(client, "code=130721")) == {"130721", "130705"}
    assert keys(client, "code=130705") == ["130705"]
    assert set(keys(client, "code=X632801")) == {"X632801", "632803"}


@pytest.mark.parametrize("q", ["xuanhua", "Xuanhua Qu", "宣化", "130705"])
def test_search_by_pinyin_chinese_or_code(client, q):
    assert "130705" in keys(client, f"q={q}")


@pytest.mark.parametrize(
    ("q", "code"),
    [
        ("wudu", "621202"),  # 武都区, once generated as "Wudou"
        ("Wǔdū", "621202"),
        ("wu du", "621202"),
        ("WUDU QU", "621202"),
        ("Xi'an", "220403"),  # 西安区 (Liaoyuan)
        ("xian qu", "220403"),
        ("kuerle", "652801"),  # 库尔勒市: its pinyin, Ku'erle Shi
        ("Kù'ěrlè", "652801"),
        ("korla", "652801"),  # and its English name, Korla City
        ("wushi", "652927"),
        ("Atushi", "653001"),
        ("artux", "653001"),
        ("lvchun", "532531"),  # 绿春县, Lüchun
    ],
)
def test_search_tolerates_tones_apostrophes_spaces_and_case(client, q, code):
    assert code in keys(client, f"q={quote(q)}")


def test_search_by_old_code_finds_the_successor(client):
    assert set(keys(client, "q=130721")) >= {"130721", "130705"}


@pytest.mark.parametrize("key", ["X632801", "x632801", "X632803"])
def test_search_by_registry_key_finds_what_the_code_filter_finds(client, key):
    assert keys(client, f"q={key}") == keys(client, f"code={key.upper()}") != []


def test_an_unencoded_plus_in_updated_since_is_named(client):
    response = client.get(f"{API}/counties/?updated_since=2024-01-01T00:00:00+08:00", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["updated_since"] == [
        "Enter a valid date/time. A '+' before the time zone must be written %2B in a URL, e.g. 2024-01-01T00:00:00%2B08:00."
    ]
    assert client.get(f"{API}/counties/?updated_since=2024-01-01T00:00:00%2B08:00").status_code == 200


def test_updated_since(client):
    models.Unit.objects.filter(code="130705").update(updated_at=timezone.now() + timedelta(days=1))
    since = (timezone.now() + timedelta(hours=12)).isoformat()
    response = client.get(f"{API}/counties/", {"updated_since": since})
    assert [r["key"] for r in response.json()["results"]] == ["130705"]


def test_updated_since_sees_a_change_to_the_records_a_county_carries(client):
    """A county carries its place's poverty status and designations: changing or removing one is
    a change to the county a syncing partner must see (the units' own updated_at does not move)."""
    since = timezone.now().isoformat()
    assert keys(client, f"updated_since={quote(since)}") == []
    # 宣化县's status, held under 130721, is 宣化区 130705's too.
    status = models.PovertyStatus.objects.get(unit__key="130721")
    status.exit_year_note = "checked"
    save_record(status, user=None, reason="test")
    assert keys(client, f"updated_since={quote(since)}") == ["130705", "130721"]
    # A designation removed: its unit, and the place it became, changed too.
    designation = models.Designation.objects.filter(unit__province__code="650000").order_by("unit__key").first()
    delete_record(designation, user=None, reason="test")
    found = keys(client, f"updated_since={quote(since)}")
    assert designation.unit.key in found and designation.unit.current.key in found and len(found) <= 4
    # A record held under the current code: the old code carries the place's records too.
    later = timezone.now().isoformat()
    xuanhua = models.Designation.objects.get(unit__key="130705", batch__year=2019)
    xuanhua.source_note = "checked"
    save_record(xuanhua, user=None, reason="test")
    assert keys(client, f"updated_since={quote(later)}") == ["130705", "130721"]


def test_record_filters(client):
    assert count(client, "designations/?batch_year=2016&province=650000") == 23
    assert count(client, "designations/?code=130721") == 2  # 宣化县 2015 and 宣化区 2019
    # And the other way: 宣化区's code finds both, and 宣化县's poverty status, held under 130721.
    assert count(client, "designations/?code=130705") == 2
    assert [r["unit"] for r in get(client, "poverty-statuses/?code=130705").json()["results"]] == ["130721"]
    assert count(client, "funding-allocations/?fiscal_year=2015&level=central") == 200
    assert count(client, "poverty-statuses/?exit_year=2019-2020&region=east") > 0
    assert count(client, "batches/?year=2014-2016") == 3


BAD_VALUES = [
    ("counties/?province=999999", "province"),
    ("counties/?province=abc", "province"),
    ("counties/?type=village", "type"),
    ("counties/?poverty=maybe", "poverty"),
    ("counties/?exit_year=20x6", "exit_year"),
    ("counties/?exit_year=99999", "exit_year"),
    ("counties/?batch_year=2016-2014", "batch_year"),
    ("counties/?batch_year=soon", "batch_year"),
    ("counties/?batch_year=1000", "batch_year"),
    ("counties/?code=13072", "code"),
    ("counties/?code=1307211", "code"),
    ("counties/?in_use=perhaps", "in_use"),
    ("counties/?designated=2", "designated"),
    ("counties/?updated_since=yesterday", "updated_since"),
    ("counties/?ordering=secret", "ordering"),
    ("designations/?outcome=rumoured", "outcome"),
    ("designations/?level=county", "level"),
    ("designations/?kind=again", "kind"),
    ("designations/?source_kind=hearsay", "source_kind"),
    ("funding-allocations/?level=township", "level"),
    ("poverty-statuses/?region=north", "region"),
    ("stats/coverage/?as_of=2013", "as_of"),
    ("stats/coverage/?as_of=2999", "as_of"),
    ("stats/provinces/?as_of=last", "as_of"),
]


@pytest.mark.parametrize(("path", "parameter"), BAD_VALUES)
def test_bad_value_is_a_400_that_names_the_parameter(client, path, parameter):
    response = get(client, path)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert parameter in error["fields"]
    assert error["message"].startswith(parameter)


def test_ordering_is_whitelisted_and_stable(client):
    rows = get(client, "counties/?ordering=-first_year&page_size=5").json()["results"]
    assert [r["first_year"] for r in rows] == sorted((r["first_year"] for r in rows), reverse=True)
    page1 = get(client, "counties/?ordering=province&page_size=100").json()["results"]
    page2 = get(client, "counties/?ordering=province&page_size=100&page=2").json()["results"]
    assert not {r["key"] for r in page1} & {r["key"] for r in page2}


# -- pagination and query counts ---------------------------------------------------------------


def test_page_size_default_and_maximum(client):
    assert len(get(client, "counties/").json()["results"]) == 50
    assert len(get(client, "counties/?page_size=5000").json()["results"]) == 1000
    body = get(client, "counties/?page_size=10&page=2").json()
    assert "page=3" in body["next"] and "page_size=10" in body["previous"]


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        # conditional-GET token, count, rows, the page's successions, then its place records: the
        # units' earlier codes (lineage), poverty statuses, designations
        ("counties/", 7),
        # the same, and the province filter's lookup of the province
        ("counties/?province=530000", 8),
        # token, count, rows (with their outcomes and whether counted), their lifecycle records
        ("designations/", 4),
        ("funding-allocations/", 3),
        ("poverty-statuses/", 3),
        # conditional-GET token, count, rows (the cached batch composition uses the same token)
        ("batches/", 3),
    ],
)
def test_query_count_does_not_depend_on_page_size(client, django_assert_num_queries, path, queries):
    get(client, path)  # fill the statistics cache
    for size in (1, 50, 1000):
        with django_assert_num_queries(queries):
            assert get(client, f"{path}{'&' if '?' in path else '?'}page_size={size}").status_code == 200


def test_unit_records_are_what_the_unit_serializer_describes():
    # The list and detail answer from plain rows (serializers.unit_records); UnitSerializer, from
    # which the OpenAPI schema is generated, must give the same output for every unit, keys in
    # the same order (retired codes, X keys without a code, units without a prefecture, places
    # with poverty statuses and designations under earlier codes, withdrawn designations).
    import json

    from counties.api.serializers.records import UNIT_VALUES, UnitSerializer, unit_records

    withdrawn = models.Designation.objects.filter(unit__key="130721").first()
    record_lifecycle(
        models.LifecycleRecord(designation=withdrawn, step="withdrawn", reason="test: withdrawn", source="test", source_kind="official"),
        user=None,
        reason="test: withdrawn",
    )
    units = models.Unit.objects.select_related("province", "prefecture", "current").prefetch_related("successions").order_by("key")
    described = json.loads(json.dumps(UnitSerializer(units, many=True).data, ensure_ascii=False))
    built = unit_records(units.values_list(*UNIT_VALUES))
    assert built == described
    assert [list(record) for record in built] == [list(record) for record in described]
    assert any(r["code"] is None for r in built) and any(r["prefecture"] is None for r in built)
    assert any(r["successors"] for r in built) and any(r["designations"] for r in built)
    xuanhua = next(r for r in built if r["key"] == "130705")
    assert xuanhua["poverty"][0]["listed_as"] == "130721"
    assert [d["counted"] for d in xuanhua["designations"] if d["designated_as"] == "130721"] == [False]


def test_fast_json_renderer_writes_the_bytes_drf_writes():
    from datetime import UTC, date, datetime
    from decimal import Decimal
    from uuid import UUID

    from django.utils.translation import gettext_lazy
    from rest_framework.renderers import JSONRenderer

    from counties.api.renderers import FastJSONRenderer

    moment = datetime(2026, 11, 29, 21, 5, 7, 123456, tzinfo=timezone.get_current_timezone())
    data = {
        "text": '宣化区 \u2028 \u2029 "quoted" </script>',
        "lazy": gettext_lazy("English"),
        "numbers": [0, -1, 2**53, True, False, None],
        "nested": {"when": moment, "utc": moment.astimezone(UTC), "day": date(2016, 1, 2), "amount": Decimal("1.50")},
        "id": UUID("12345678-1234-5678-1234-567812345678"),
        2016: "an integer key",
    }
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)
    assert FastJSONRenderer().render(data, "application/json; indent=4") == JSONRenderer().render(data, "application/json; indent=4")


# -- statistics --------------------------------------------------------------------------------


def test_statistics_match_the_engine_and_the_command(client):
    import json

    coverage = get(client, "stats/coverage/?as_of=2018").json()
    assert coverage == {
        "as_of": 2018,
        "batch_entries": 1016,
        "designated_units": 1016,
        "demonstration_counties": 1016,
        "new_entries": 260,
        "new_entries_published": 260,
        "new_entries_known_in_part": False,
        "repeat_designations": 0,
        "poverty_counties_total": 832,
        "poverty_counties_covered": 737,
        "poverty_coverage_pct": "88.6",
        "includes_illustrative": True,
    }
    report = json.loads(run_command("coverage_report", "--as-of", "2018", "--format", "json"))
    assert {k: report["coverage"][k] for k in coverage} == coverage
    batches = get(client, "stats/batches/").json()
    b2016 = next(b for b in batches if b["year"] == 2016)
    assert (b2016["size"], b2016["poverty_counties"], b2016["poverty_share_pct"], b2016["meets_rule"]) == (240, 158, "65.8", True)
    assert b2016["min_poverty_share_pct"] == "50.00"
    assert [b["size"] for b in batches] == [b["size"] for b in report["batches"]]
    provinces = get(client, "stats/provinces/?as_of=2018").json()
    assert sum(p["demonstration_counties"] for p in provinces) == 1016
    funding = get(client, "stats/funding/").json()
    assert funding["total_yuan"] == str(statistics.funding_totals().total_yuan) == "3700000000.00"
    assert get(client, "stats/coverage/").json()["as_of"] == 2021
    assert len(get(client, "stats/coverage/series/").json()) == 8
    assert [e["poverty_counties"] for e in get(client, "stats/exits/").json()] == [28, 125, 283, 344, 52]


# -- formats -----------------------------------------------------------------------------------


def read_csv(response):
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_for_lists_and_statistics(client):
    response = get(client, "counties/?code=130721&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert [(r["code"], r["province_code"], r["in_use"]) for r in rows] == [("130705", "130000", "true"), ("130721", "130000", "false")]
    # Both carry the poverty status of 宣化县 (130721), which became 宣化区 in 2016.
    assert [(r["poverty_county"], r["poverty_listed_as"], r["exit_year"]) for r in rows] == [("true", "130721", "2018")] * 2
    coverage = read_csv(get(client, "stats/coverage/?as_of=2018&format=csv"))
    assert (coverage[0]["demonstration_counties"], coverage[0]["poverty_coverage_pct"]) == ("1016", "88.6")
    funding = read_csv(get(client, "stats/funding/?format=csv"))
    assert {
        "group": "by_year",
        "key": "2015",
        "total_yuan": "3700000000.00",
        "allocations": "200",
        "includes_illustrative": "true",
    } in funding
    assert len(read_csv(get(client, "stats/batches/?format=csv"))) == 8


def test_a_csv_page_says_how_many_rows_and_where_the_next_page_is(client):
    """A CSV page has no room for the count and links of a JSON page: they come as headers."""
    first = get(client, "counties/?province=650000&page_size=40&format=csv")
    total = int(first["X-Total-Count"])
    assert total == models.Unit.objects.filter(province__code="650000").count() > 80
    assert len(read_csv(first)) == 40
    assert first["Link"] == '<http://testserver/api/v1/counties/?format=csv&page=2&page_size=40&province=650000>; rel="next"'
    second = get(client, "counties/?format=csv&page=2&page_size=40&province=650000")
    assert second["Link"] == (
        '<http://testserver/api/v1/counties/?format=csv&page=3&page_size=40&province=650000>; rel="next", '
        '<http://testserver/api/v1/counties/?format=csv&page_size=40&province=650000>; rel="prev"'
    )
    pages = [read_csv(first), read_csv(second), read_csv(get(client, "counties/?format=csv&page=3&page_size=40&province=650000"))]
    codes = [row["code"] for page in pages for row in page]
    assert len(codes) == len(set(codes)) == min(total, 120)
    # The JSON page says the same in its body and its headers.
    page = get(client, "counties/?province=650000&page_size=40")
    assert page["X-Total-Count"] == str(page.json()["count"]) == str(total)


# -- conditional GET ---------------------------------------------------------------------------


def test_conditional_get(client, django_capture_on_commit_callbacks):
    # Last-Modified is only sent once the second of the last change is over (test_conditional_get.py).
    models.DataVersion.objects.update(changed_at=timezone.now() - timedelta(seconds=5))
    first = get(client, "stats/coverage/?as_of=2018")
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag and modified
    assert get(client, "stats/coverage/?as_of=2018", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert get(client, "counties/130705/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert get(client, "stats/coverage/?as_of=2019", HTTP_IF_NONE_MATCH=etag).status_code == 200  # another resource
    record = models.Designation(
        unit=models.Unit.objects.get(code="110101"), batch=models.Batch.objects.get(year=2018), source="t", source_kind="official"
    )
    with django_capture_on_commit_callbacks(execute=True):  # the token changes when the write commits
        save_record(record, user=None, reason="test")
    after = get(client, "stats/coverage/?as_of=2018", HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200
    assert after["ETag"] != etag
    assert after.json()["batch_entries"] == 1017


# -- tokens and writes -------------------------------------------------------------------------


def user_with(*codenames, province=None):
    user = User.objects.create_user(f"partner{User.objects.count()}", password="x")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="counties", codename__in=codenames))
    if province:
        models.StaffProfile.objects.create(user=user, province=models.Province.objects.get(code=province))
    return user


EDITOR_PERMS = [
    f"{action}_{model}" for action in ("add", "change", "delete") for model in ("designation", "fundingallocation", "povertystatus")
]


def auth(key):
    # No Accept-Language: the API answers in English (tests/test_api_root.py).
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def write_routes():
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    funding = models.FundingAllocation.objects.first()
    status = models.PovertyStatus.objects.first()
    return [
        ("post", f"{API}/designations/", designation_payload()),
        ("patch", f"{API}/designations/{designation.pk}/", {"is_old_revolutionary_base": True}),
        ("put", f"{API}/designations/{designation.pk}/", designation_payload(designation.unit.key, designation.batch.year)),
        ("delete", f"{API}/designations/{designation.pk}/?reason=test", None),
        (
            "post",
            f"{API}/funding-allocations/",
            {"unit": "110101", "fiscal_year": 2018, "level": "central", "amount": "1.00", "source": "s", "source_kind": "official"},
        ),
        ("patch", f"{API}/funding-allocations/{funding.pk}/", {"amount": "2.00"}),
        ("delete", f"{API}/funding-allocations/{funding.pk}/?reason=test", None),
        ("patch", f"{API}/poverty-statuses/{status.pk}/", {"exit_year": 2020}),
        ("delete", f"{API}/poverty-statuses/{status.pk}/?reason=test", None),
    ]


def call(client, method, url, data, **extra):
    return getattr(client, method)(url, data=data, content_type="application/json", **extra)


def test_anonymous_clients_cannot_write(client):
    for method, url, data in write_routes():
        response = call(client, method, url, data)
        assert response.status_code in (401, 403), (method, url)
        assert "error" in response.json()


def test_read_only_token_is_refused_on_every_write_route(client):
    _, key = models.ApiToken.issue(user_with(*EDITOR_PERMS), "read only")
    for method, url, data in write_routes():
        response = call(client, method, url, data, **auth(key))
        assert response.status_code == 403, (method, url)
        assert response.json()["error"]["message"] == "This API token is read-only."
    assert get(client, "counties/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_write_token_without_model_permission_is_refused(client):
    _, key = models.ApiToken.issue(user_with(), "no perms", can_write=True)
    response = call(client, "post", f"{API}/designations/", designation_payload(), **auth(key))
    assert response.status_code == 403


def test_write_token_creates_changes_and_deletes_with_history(client):
    user = user_with(*EDITOR_PERMS)
    _, key = models.ApiToken.issue(user, "editor", can_write=True)
    before = statistics.coverage(2018).batch_entries
    response = call(client, "post", f"{API}/designations/?reason=notice received", designation_payload(), **auth(key))
    assert response.status_code == 201, response.json()
    created = models.Designation.objects.get(pk=response.json()["id"])
    assert statistics.coverage(2018).batch_entries == before + 1  # the cache followed the API edit
    response = call(
        client,
        "patch",
        f"{API}/designations/{created.pk}/",
        {"is_old_revolutionary_base": True},
        **auth(key),
        HTTP_X_CHANGE_REASON="evaluated",
    )
    assert response.status_code == 200 and response.json()["is_old_revolutionary_base"] is True
    assert call(client, "delete", f"{API}/designations/{created.pk}/", None, **auth(key)).status_code == 400  # no reason
    assert call(client, "delete", f"{API}/designations/{created.pk}/?reason=entered twice", None, **auth(key)).status_code == 204
    history = list(models.Designation.history.filter(id=created.pk).order_by("history_date"))
    assert [(h.history_type, h.history_user, h.history_change_reason) for h in history] == [
        ("+", user, "notice received"),
        ("~", user, "evaluated"),
        ("-", user, "entered twice"),
    ]
    assert models.ApiToken.objects.get(user=user).last_used_at is not None


def test_api_writes_get_the_same_validation(client):
    _, key = models.ApiToken.issue(user_with(*EDITOR_PERMS), "editor", can_write=True)
    existing = models.Designation.objects.filter(source_kind="secondary").first()
    duplicate = designation_payload(existing.unit.key, existing.batch.year)
    response = call(client, "post", f"{API}/designations/", duplicate, **auth(key))
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["error"]["fields"]
    negative = {"unit": "110101", "fiscal_year": 2018, "level": "central", "amount": "-5", "source": "s", "source_kind": "official"}
    response = call(client, "post", f"{API}/funding-allocations/", negative, **auth(key))
    assert response.status_code == 400
    unknown = call(client, "post", f"{API}/designations/", designation_payload(code="999999"), **auth(key))
    assert unknown.status_code == 400 and "unit" in unknown.json()["error"]["fields"]


def test_a_place_is_listed_once_and_there_are_832_poverty_counties(client):
    """宣化区 130705 is 宣化县 130721, listed under its 2014 code: a second status made it count
    twice (coverage said 833 of 832); and a county outside the 832 made it 833 too."""
    _, key = models.ApiToken.issue(user_with(*EDITOR_PERMS), "editor", can_write=True)
    status = {"listed_name": "宣化区", "region": "east", "exit_year": 2018, "source": "s", "source_kind": "official"}
    same_place = call(client, "post", f"{API}/poverty-statuses/?reason=test", {**status, "unit": "130705"}, **auth(key))
    assert same_place.status_code == 400
    assert same_place.json()["error"]["fields"]["unit"] == [
        "宣化区 (130705) is the same place as 宣化县 (130721), which is already listed as a poverty county: "
        "a place is counted once. Correct that record instead."
    ]
    not_listed = [
        "正定县 (130123) is not one of the 832 poverty counties: a poverty status can be given only to a place named in the "
        "reference list of 832 (under the code listed, or an earlier or later code of the same place)."
    ]
    another = call(client, "post", f"{API}/poverty-statuses/?reason=test", {**status, "unit": "130123"}, **auth(key))
    assert another.status_code == 400
    assert another.json()["error"]["fields"]["unit"] == not_listed
    assert models.PovertyStatus.objects.count() == 832 == get(client, "stats/coverage/").json()["poverty_counties_total"]
    # The 832 are named, not counted: with 行唐县's status removed, 正定县 is still not the 832nd
    # (main took it); 行唐县 itself is.
    delete_record(models.PovertyStatus.objects.get(unit__code="130125"), user=None, reason="test")
    assert (
        call(client, "post", f"{API}/poverty-statuses/?reason=test", {**status, "unit": "130123"}, **auth(key)).json()["error"]["fields"][
            "unit"
        ]
        == not_listed
    )
    back = call(client, "post", f"{API}/poverty-statuses/?reason=test", {**status, "listed_name": "行唐县", "unit": "130125"}, **auth(key))
    assert back.status_code == 201, back.json()
    # A unit that holds one already is told so, not that all 832 are listed.
    again = call(client, "post", f"{API}/poverty-statuses/?reason=test", {**status, "unit": "130721"}, **auth(key))
    assert again.status_code == 400 and "already exists" in again.json()["error"]["fields"]["unit"][0]
    # Two counties merged into one place stay two poverty counties: editing either is fine.
    merged = models.UnitLineage.objects.filter(depth=1, descendant__key="632803").values_list("ancestor__poverty_status", flat=True)
    assert len([pk for pk in merged if pk]) == 2
    assert call(client, "patch", f"{API}/poverty-statuses/{merged[0]}/?reason=test", {"exit_year": 2019}, **auth(key)).status_code == 200


def test_provincial_token_is_refused_outside_its_province(client):
    _, key = models.ApiToken.issue(user_with(*EDITOR_PERMS, province="130000"), "Hebei", can_write=True)
    outside = call(client, "post", f"{API}/designations/", designation_payload("110101"), **auth(key))
    assert outside.status_code == 403
    assert "河北省 only" in outside.json()["error"]["message"]
    beijing = models.Designation.objects.filter(unit__province__code="110000").first() or models.Designation.objects.create(
        unit=models.Unit.objects.get(code="110101"), batch=models.Batch.objects.get(year=2016), source="t", source_kind="official"
    )
    assert call(client, "patch", f"{API}/designations/{beijing.pk}/", {"is_old_revolutionary_base": True}, **auth(key)).status_code == 403
    inside = call(client, "post", f"{API}/designations/", designation_payload("130705"), **auth(key))
    assert inside.status_code == 201, inside.json()


# -- no lost updates: If-Match and partial writes ------------------------------------------------


def test_if_match_refuses_a_write_to_a_record_that_changed_with_412(client):
    user = user_with(*EDITOR_PERMS)
    _, key = models.ApiToken.issue(user, "editor", can_write=True)
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    name = designation.name_as_reported
    url = f"{API}/designations/{designation.pk}/"
    read = client.get(url)
    etag = read["ETag"]
    assert read.status_code == 200 and etag.startswith('"')
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    changed = call(
        client, "patch", url, {"is_old_revolutionary_base": True}, **auth(key), HTTP_IF_MATCH=etag, HTTP_X_CHANGE_REASON="evaluated"
    )
    assert changed.status_code == 200
    new_etag = changed["ETag"]
    assert new_etag != etag and client.get(url)["ETag"] == new_etag  # the write's answer names the new version
    history_before = designation.history.count()

    stale = [
        call(client, "patch", url, {"name_as_reported": "mine"}, **auth(key), HTTP_IF_MATCH=etag, HTTP_X_CHANGE_REASON="checked"),
        call(
            client,
            "put",
            url,
            designation_payload(designation.unit.key, designation.batch.year),
            **auth(key),
            HTTP_IF_MATCH=etag,
            HTTP_X_CHANGE_REASON="checked",
        ),
        call(client, "delete", f"{url}?reason=duplicate", None, **auth(key), HTTP_IF_MATCH=etag, HTTP_X_CHANGE_REASON="checked"),
        call(
            client, "patch", url, {"name_as_reported": "mine"}, **auth(key), HTTP_IF_MATCH=f"W/{new_etag}", HTTP_X_CHANGE_REASON="checked"
        ),  # weak never matches
    ]
    for response in stale:
        assert response.status_code == 412
        assert response.json()["error"]["code"] == "precondition_failed"
        assert new_etag in response.json()["error"]["message"]
    designation.refresh_from_db()
    assert (designation.is_old_revolutionary_base, designation.name_as_reported) == (True, name)
    assert designation.history.count() == history_before  # nothing written

    assert (
        call(
            client, "patch", url, {"name_as_reported": "ok"}, **auth(key), HTTP_IF_MATCH=f'"x", {new_etag}', HTTP_X_CHANGE_REASON="checked"
        ).status_code
        == 200
    )
    assert (
        call(client, "patch", url, {"name_as_reported": "any"}, **auth(key), HTTP_IF_MATCH="*", HTTP_X_CHANGE_REASON="checked").status_code
        == 200
    )
    # If-Match is optional: without it the write goes ahead.
    assert call(client, "patch", url, {"name_as_reported": "blind"}, **auth(key), HTTP_X_CHANGE_REASON="checked").status_code == 200


def test_patch_writes_only_the_fields_it_sends(client):
    _, key = models.ApiToken.issue(user_with(*EDITOR_PERMS), "editor", can_write=True)
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    with CaptureQueriesContext(connection) as queries:
        response = call(
            client,
            "patch",
            f"{API}/designations/{designation.pk}/",
            {"is_old_revolutionary_base": True},
            **auth(key),
            HTTP_X_CHANGE_REASON="evaluated",
        )
    assert response.status_code == 200
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "counties_designation"')]
    assert len(updates) == 1
    assigned = re.findall(r'"(\w+)" = ', updates[0].split(" WHERE ")[0])
    assert sorted(assigned) == ["is_old_revolutionary_base", "updated_at"]


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown"])
def test_unusable_tokens_are_refused(client, state):
    token, key = models.ApiToken.issue(user_with(*EDITOR_PERMS), "t", can_write=True)
    if state == "revoked":
        token.revoked_at = timezone.now()
    elif state == "expired":
        token.expires_at = timezone.now() - timedelta(minutes=1)
    else:
        key = key + "x"
    token.save()
    response = get(client, "counties/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_tokens_are_stored_hashed():
    token, key = models.ApiToken.issue(user_with(), "t")
    assert key not in (token.key_hash, token.key_prefix)
    assert token.key_hash == models.hash_token(key)
    assert not models.ApiToken.objects.filter(key_hash=key).exists()


def test_admin_issues_a_token_and_shows_the_key_once(admin_client):
    user = user_with()
    response = admin_client.post(
        "/admin/counties/apitoken/add/",
        {"user": user.pk, "name": "Provincial system", "can_write": "", "expires_at": "", "revoked_at": ""},
        follow=True,
    )
    assert response.status_code == 200

    shown = " ".join(str(m) for m in response.context["messages"])
    key = re.search(r"dcr_[A-Za-z0-9_-]+", shown)[0]
    assert models.ApiToken.objects.get(name="Provincial system").key_hash == models.hash_token(key)


# -- throttling and CORS -----------------------------------------------------------------------


def test_anonymous_clients_are_throttled_with_retry_after(client, settings):
    settings.API_THROTTLE_RATES = {"anon": "3/minute", "token": "5/minute"}
    statuses = [get(client, f"counties/?page={n}").status_code for n in range(1, 5)]
    assert statuses == [200, 200, 200, 429]
    response = get(client, "counties/?page=5")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "throttled"
    _, key = models.ApiToken.issue(user_with(), "t")
    assert get(client, "counties/?page=6", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200  # tokens have their own limit


def test_cors_allows_reading_not_writing(client):
    preflight = client.options(f"{API}/counties/", HTTP_ORIGIN="https://dashboard.example.org", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "POST" not in preflight["Access-Control-Allow-Methods"]
    response = get(client, "counties/?page_size=1", HTTP_ORIGIN="https://dashboard.example.org")
    assert response["Access-Control-Allow-Origin"] == "*"


# -- OpenAPI -----------------------------------------------------------------------------------


def test_schema_and_docs_are_served_locally(client):
    schema = client.get(f"{API}/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/stats/coverage/" in schema.content
    docs = client.get(f"{API}/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_committed_schema_matches_the_code(tmp_path, settings):
    generated = tmp_path / "v1.yaml"
    run_command("spectacular", "--file", str(generated), "--validate", "--lang", "en")
    committed = settings.BASE_DIR / "openapi" / "v1.yaml"
    assert generated.read_text() == committed.read_text(), "The API changed: run `make schema` and commit openapi/v1.yaml"


@pytest.mark.parametrize("size", ["0", "-1", "abc", "1.5"])
def test_a_page_size_that_is_not_a_whole_number_is_refused(client, size):
    response = get(client, f"counties/?page_size={size}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == ["page_size"]
    assert "1 to 1000" in error["message"] and repr(size) in error["message"]


def test_an_unknown_format_is_refused_naming_the_formats(client):
    response = get(client, "counties/?format=xyz")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["message"] == "format: No format 'xyz': use one of json, csv, api."
    assert get(client, "counties/?format=csv")["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize(
    ("accept", "status", "content_type"),
    [
        ("application/json;q=0", 406, "application/json"),
        ("application/json; q=0.0, text/csv;q=0", 406, "application/json"),
        ("application/json;q=0, */*", 200, "text/csv; charset=utf-8"),
        ("application/json;q=0.5", 200, "application/json"),
    ],
)
def test_a_media_type_given_q_0_is_not_acceptable(client, accept, status, content_type):
    response = get(client, "counties/?page_size=1", HTTP_ACCEPT=accept)
    assert (response.status_code, response["Content-Type"]) == (status, content_type)
    if status == 406:
        assert response.json()["error"]["code"] == "not_acceptable"
    assert get(client, "counties/?page_size=1&format=json", HTTP_ACCEPT=accept).status_code == 200


def test_a_host_the_site_does_not_serve_gets_a_json_error_on_the_api(client):
    response = client.get("/api/v1/counties/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
    page = client.get("/counties/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    assert "本站不响应所请求的主机名。" in page.content.decode()


def test_a_missing_record_gets_one_message_in_the_clients_language(client):
    for path in ("/api/v1/counties/999999/", "/api/v1/designations/999999/", "/api/v1/designations/abc/"):
        english = client.get(path, HTTP_ACCEPT="application/json")
        assert english.status_code == 404, path
        assert english.json()["error"] == {"code": "not_found", "message": f"No record at {path}."}
        chinese = client.get(path, HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="zh-CN")
        assert chinese.json()["error"]["message"] == f"{path} 没有记录。"


def test_a_change_needs_a_reason_as_in_the_admin(client):
    _, key = models.ApiToken.issue(user_with(*EDITOR_PERMS), "editor", can_write=True)
    designation = models.Designation.objects.filter(source_kind="secondary").first()
    versions = designation.history.count()
    url = f"{API}/designations/{designation.pk}/"
    for method, payload in (
        ("patch", {"is_old_revolutionary_base": True}),
        ("put", designation_payload(designation.unit.key, designation.batch.year)),
    ):
        refused = call(client, method, url, payload, **auth(key))
        assert refused.status_code == 400, method
        assert refused.json()["error"]["fields"] == {"reason": ["Give a reason for the change (?reason=… or the X-Change-Reason header)."]}
    assert designation.history.count() == versions
    done = call(client, "patch", f"{url}?reason=evaluation report", {"is_old_revolutionary_base": True}, **auth(key))
    assert done.status_code == 200 and designation.history.latest().history_change_reason == "evaluation report"
