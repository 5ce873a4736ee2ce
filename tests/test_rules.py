"""The registry's small rules, each asked of its one home: "code in use in year Y"
(`counties.models`)."""

import pytest

from counties import models

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def keys(units):
    return set(units.values_list("key", flat=True))


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
