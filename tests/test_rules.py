"""The registry's small rules, each asked of its one home: the place a code names and the records
held under its codes (`counties.reads.places`), "the same county" for the models' own checks and
"code in use in year Y" (`counties.models`), the year bounds of the imports and the as-of year of
the statistics; then every door that takes a code, and every door that takes an as-of year, giving
the same answer."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.urls import reverse

from counties import models
from counties.models.targets import Assessment, Indicator, IndicatorValue, Pairing
from counties.reads.places import held_by_place_named, place_named, units_named
from counties.writes.imports.programme import year_in_range

from .conftest import run_command
from .factories import BatchFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# Every code of a place, on the reference data: two 行委 without an official code merged into
# 茫崖市 in 2018 (X632801 is a retired registry key); 宣化县 renamed 宣化区 in 2016; 长岛县 and
# 蓬莱市 merged into 蓬莱区 in 2020. And a county whose code never changed.
PLACES = {
    "632803": {"X632801", "X632802", "632803"},
    "130705": {"130721", "130705"},
    "370614": {"370634", "370684", "370614"},
    "110101": {"110101"},
}


def keys(units):
    return set(units.values_list("key", flat=True))


# -- the place a code names ---------------------------------------------------------------------


@pytest.mark.parametrize(("place", "codes"), PLACES.items())
def test_every_code_of_a_place_names_that_place_and_holds_its_records(place, codes):
    for code in codes:
        assert place_named(code).key == place
        assert keys(models.Unit.objects.filter(held_by_place_named(code, path=""))) == codes


def test_a_code_the_registry_never_held_names_nothing():
    assert place_named("999999") is None
    assert not models.Unit.objects.filter(held_by_place_named("999999", path="")).exists()
    assert not models.Unit.objects.filter(units_named("999999")).exists()


def test_a_list_of_units_finds_the_unit_and_the_place_its_code_names():
    assert keys(models.Unit.objects.filter(units_named("130721"))) == {"130721", "130705"}
    assert keys(models.Unit.objects.filter(units_named("130705"))) == {"130705"}
    assert keys(models.Unit.objects.filter(units_named("X632801"))) == {"X632801", "632803"}
    # A prefix finds the codes that start with it; only a whole code brings its place along.
    assert keys(models.Unit.objects.filter(units_named("13072", prefix=True))) == keys(models.Unit.objects.filter(key__startswith="13072"))
    assert "130705" not in keys(models.Unit.objects.filter(units_named("13072", prefix=True)))
    assert {"130721", "130705"} <= keys(models.Unit.objects.filter(units_named("130721", prefix=True)))


def test_the_same_county_for_the_models_checks_is_one_line_of_code_changes():
    def line(key):
        return keys(models.Unit.objects.filter(models.same_line(models.Unit.objects.get(key=key).pk)))

    assert line("130721") == line("130705") == {"130721", "130705"}
    # Merged units share a place but not a line: they stay two poverty counties.
    assert line("X632801") == {"X632801", "632803"}
    assert line("632803") == {"X632801", "X632802", "632803"}
    assert line("370634") == {"370634", "370614"}
    assert line("110101") == {"110101"}
    assert models.is_poverty_place(models.Unit.objects.get(key="632803").pk)
    assert not models.is_poverty_place(models.Unit.objects.get(key="370634").pk)


# -- code in use in year Y ----------------------------------------------------------------------


def test_code_in_use_counts_both_year_ends_and_open_ends():
    assert models.code_in_use(None, None, 1949)
    assert models.code_in_use(2014, 2016, 2014) and models.code_in_use(2014, 2016, 2016)
    assert not models.code_in_use(2014, 2016, 2017) and not models.code_in_use(2018, None, 2017)


@pytest.mark.parametrize("year", [2015, 2016, 2018, 2020])
def test_the_query_and_the_unit_ask_code_in_use_alike(year):
    units = list(models.Unit.objects.all())
    assert keys(models.Unit.objects.in_use_at(year)) == {u.key for u in units if u.in_use_in(year)}
    designations = list(models.Designation.objects.select_related("unit"))
    through_unit = models.Designation.objects.filter(models.in_use_at_q(year, prefix="unit__"))
    assert set(through_unit.values_list("pk", flat=True)) == {d.pk for d in designations if d.unit.in_use_in(year)}


def test_a_renamed_code_was_in_use_up_to_its_last_year_end():
    xuanhua_county = models.Unit.objects.get(key="130721")  # 宣化县, 宣化区 from 2016
    assert [xuanhua_county.in_use_in(year) for year in (2014, 2015, 2016)] == [True, True, False]


# -- year bounds and the as-of year -------------------------------------------------------------


def test_an_imported_year_lies_from_the_first_year_to_the_last_plausible_one():
    assert year_in_range(models.FIRST_PROGRAMME_YEAR) == 2014 and year_in_range(models.LAST_PLAUSIBLE_YEAR) == 2100
    with pytest.raises(ValueError, match=r"^the year 2013 is out of range \(2014–2100\)$"):
        year_in_range(2013)
    with pytest.raises(ValueError, match=r"^the year 2101 is out of range \(2000–2100\)$"):
        year_in_range(2101, low=models.FIRST_VALUE_YEAR)
    assert year_in_range(2000, low=models.FIRST_VALUE_YEAR) == 2000


def as_of_message(value, latest):
    with pytest.raises(ValidationError) as refused:
        models.as_of_year(value, latest)
    return " ".join(refused.value.messages)


def test_an_as_of_year_lies_from_the_first_year_to_the_latest_batch_year():
    assert models.as_of_year(None, 2021) == 2021
    assert models.as_of_year(2014, 2021) == 2014 and models.as_of_year(2021, 2021) == 2021
    assert as_of_message(2013, 2021) == "There are figures for the end of 2014 to the end of 2021 (the latest year with a batch), not 2013."
    assert as_of_message(2022, 2021) == "There are figures for the end of 2014 to the end of 2021 (the latest year with a batch), not 2022."


@pytest.mark.parametrize("year", [2013, 2099])
def test_the_page_the_api_and_coverage_report_refuse_an_as_of_year_alike(client, year):
    message = as_of_message(year, 2021)
    page = client.get(reverse("counties:statistics"), {"as_of": year})
    assert page.status_code == 400 and f'<q lang="zxx">{year}</q>: {message}' in page.content.decode()
    api = client.get("/api/v1/stats/coverage/", {"as_of": year})
    assert api.status_code == 400 and api.json()["error"]["fields"]["as_of"] == [message]
    with pytest.raises(CommandError) as refused:
        run_command("coverage_report", "--as-of", str(year))
    assert str(refused.value) == f"--as-of: {message}"


# -- every door that takes a code ---------------------------------------------------------------

API_LISTS = {
    "designations": models.Designation,
    "funding-allocations": models.FundingAllocation,
    "poverty-statuses": models.PovertyStatus,
    "pairings": Pairing,
    "indicator-values": IndicatorValue,
    "assessments": Assessment,
}
ADMIN_LISTS = {
    "designation": models.Designation,
    "fundingallocation": models.FundingAllocation,
    "povertystatus": models.PovertyStatus,
    "pairing": Pairing,
    "indicatorvalue": IndicatorValue,
    "assessment": Assessment,
    "unit": models.Unit,
}


def unit_of(model):
    """The path from a record to its unit (an assessment's is its designation's)."""
    return {Assessment: "designation__unit__", models.Unit: ""}.get(model, "unit__")


@pytest.fixture
def records_under_every_code():
    """One record of each kind under every code of the places (more than the loaded data has):
    a filter that misses a code of a place misses its records."""
    batch = BatchFactory(year=2030)
    indicator = Indicator.objects.get(code="parcels")
    provenance = {"source": "test", "source_kind": "official"}
    for codes in PLACES.values():
        for unit in models.Unit.objects.filter(key__in=codes):
            designation = models.Designation.objects.create(unit=unit, batch=batch, **provenance)
            models.FundingAllocation.objects.create(
                unit=unit, designation=designation, fiscal_year=2030, level="central", amount=1, **provenance
            )
            Assessment.objects.create(designation=designation, year=2031, **provenance)
            Pairing.objects.create(unit=unit, partner_name="test", partner_kind="platform", start_year=2030, **provenance)
            IndicatorValue.objects.create(unit=unit, indicator=indicator, year=2030, value=Decimal(1), **provenance)
            if not hasattr(unit, "poverty_status"):
                models.PovertyStatus.objects.create(unit=unit, region="east", listed_name=unit.name_zh, **provenance)


@pytest.mark.parametrize(("place", "codes"), PLACES.items())
def test_every_code_of_a_place_selects_its_records_at_every_door(client, admin_client, records_under_every_code, place, codes):
    for name, model in API_LISTS.items():
        held = set(model.objects.filter(**{f"{unit_of(model)}key__in": codes}).values_list("pk", flat=True))
        assert len(held) >= len(codes)  # every code holds one at least
        for code in codes:
            response = client.get(f"/api/v1/{name}/", {"code": code, "page_size": 1000})
            assert response.status_code == 200, response.json()
            assert {row["id"] for row in response.json()["results"]} == held, (name, code)
    for name, model in ADMIN_LISTS.items():
        held = set(model.objects.filter(**{f"{unit_of(model)}key__in": codes}).values_list("pk", flat=True))
        for code in codes:
            response = admin_client.get(reverse(f"admin:counties_{name}_changelist"), {"q": code})
            assert {obj.pk for obj in response.context["cl"].queryset} == held, (name, code)
