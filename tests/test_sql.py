"""The reads' SQL helpers (counties.reads.sql): an id set as one parameter, and queries compiled once."""

import pytest

from counties.models import PovertyStatus, Unit
from counties.reads.sql import IdSet, IdSetQuery, array_literal, json_array

pytestmark = pytest.mark.django_db


def test_an_id_set_selects_what_a_list_of_ids_selects(django_assert_num_queries):
    pks = list(Unit.objects.order_by("pk").values_list("pk", flat=True))
    chosen = pks[::3]  # a thousand ids, in one parameter
    with django_assert_num_queries(1):
        found = list(Unit.objects.filter(pk__in=IdSet(chosen)).values_list("pk", flat=True))
    assert sorted(found) == chosen
    # Left out, and empty: every unit, or none.
    assert Unit.objects.exclude(pk__in=IdSet(chosen)).count() == len(pks) - len(chosen)
    assert not Unit.objects.filter(pk__in=IdSet([])).exists()
    assert Unit.objects.exclude(pk__in=IdSet([])).count() == len(pks)


def test_in_ids_selects_what_a_list_of_ids_selects(django_assert_num_queries):
    pks = list(Unit.objects.order_by("pk").values_list("pk", flat=True))
    chosen = frozenset(pks[::3])
    with django_assert_num_queries(1):
        found = set(Unit.objects.filter(pk__in_ids=chosen).values_list("pk", flat=True))
    assert found == chosen
    assert Unit.objects.exclude(pk__in_ids=chosen).count() == len(pks) - len(chosen)
    assert not Unit.objects.filter(pk__in_ids=[]).exists()
    assert Unit.objects.exclude(pk__in_ids=set()).count() == len(pks)
    with pytest.raises((TypeError, ValueError)):  # ids only: nothing else reaches the SQL
        list(Unit.objects.filter(pk__in_ids=["1); DROP TABLE counties_unit; --"]))


def test_a_compiled_query_gives_the_rows_of_its_queryset_each_time(django_assert_num_queries):
    def build(ids):
        statuses = PovertyStatus.objects.filter(unit_id__in=ids).order_by("unit__key")
        return statuses.values_list("unit__key", "exit_year", "is_key_county_2012")

    query = IdSetQuery(build)
    units = list(PovertyStatus.objects.order_by("unit__key").values_list("unit_id", flat=True))
    for chosen in (units[:5], units[100:400], [], units[-1:]):
        with django_assert_num_queries(1):
            rows = query.rows(chosen)
        assert rows == list(build(chosen))  # the same rows, converted alike (booleans on SQLite)
    assert any(isinstance(flag, bool) for _, _, flag in query.rows(units))


@pytest.mark.parametrize("bad", ["2", 2.5, True, None, "1,2"])
def test_an_id_sets_text_holds_integers_only(bad):
    assert array_literal([1, -2, 30000]) == "{1,-2,30000}"
    assert json_array(frozenset([7])) == "[7]"
    with pytest.raises(TypeError, match="not a list of integers"):
        array_literal([1, bad])
    with pytest.raises(TypeError, match="not a list of integers"):
        json_array([bad])
