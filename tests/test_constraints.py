"""Every integrity rule is enforced by the database itself, on SQLite and PostgreSQL alike.

Rows are written with `objects.create()`/`bulk_create()`, which skip model validation, so only a
database constraint can refuse them.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from counties import models

from .factories import (
    BatchFactory,
    DesignationFactory,
    FundingAllocationFactory,
    PovertyStatusFactory,
    PrefectureFactory,
    ProvinceFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


def unit_fields(**overrides):
    prefecture = PrefectureFactory()
    fields = {
        "key": "990188",
        "code": "990188",
        "name_zh": "坏县",
        "name_pinyin": "Huai Xian",
        "name_en": "Huai County",
        "unit_type": models.UnitType.COUNTY,
        "province": prefecture.province,
        "prefecture": prefecture,
        "parent_type": models.ParentType.PREFECTURE,
        "first_year": 1983,
    }
    return fields | overrides


def make_unit(**overrides):
    return models.Unit.objects.create(**unit_fields(**overrides))


def make_succession(**overrides):
    predecessor = UnitFactory()
    successor = UnitFactory()
    fields = {
        "predecessor": predecessor,
        "successor": successor,
        "successor_code": successor.key,
        "year": 2016,
        "kind": models.SuccessionKind.REPLACED,
        "is_primary": True,
    }
    return models.UnitSuccession.objects.create(**(fields | overrides))


def second_primary():
    first = make_succession()
    other = UnitFactory()
    models.UnitSuccession.objects.create(
        predecessor=first.predecessor, successor=other, successor_code=other.key, year=2016, kind="replaced", is_primary=True
    )


def make_batch(**overrides):
    return models.Batch.objects.create(
        **({"year": 2030, "sequence": 1, "title_zh": "测试", "title_en": "test", "source": "test", "source_kind": "official"} | overrides)
    )


def make_fact(**overrides):
    return models.ProgrammeFact.objects.create(
        **({"fact_id": "T1", "period": "2030", "metric": "m", "value_text": "1", "source": "test", "source_kind": "official"} | overrides)
    )


def duplicate_designation():
    designation = DesignationFactory()
    DesignationFactory(unit=designation.unit, batch=designation.batch)


def duplicate_batch():
    make_batch(year=2031)
    make_batch(year=2031)


def make_step(**overrides):
    designation = overrides.pop("designation", None) or DesignationFactory()
    fields = {"step": "withdrawn", "year": 2030, "reason": "failed", "source": "test", "source_kind": "official"}
    return models.LifecycleRecord.objects.create(designation=designation, **(fields | overrides))


def second_withdrawal():
    first = make_step()
    make_step(designation=first.designation, year=2031)


def duplicate_provincial_batch():
    province = ProvinceFactory()
    make_batch(year=2031, level="provincial", province=province)
    make_batch(year=2031, level="provincial", province=province)


def duplicate_published_count():
    province = ProvinceFactory()
    for _ in range(2):
        models.PublishedProvinceCount.objects.create(year=2030, province=province, count=3, source="s", source_kind="secondary")


def duplicate_poverty_status():
    status = PovertyStatusFactory()
    PovertyStatusFactory(unit=status.unit)


BAD_ROWS = {
    "unit code with five digits": lambda: make_unit(key="99018", code="99018"),
    "unit code with a letter": lambda: make_unit(key="99018A", code="99018A"),
    "unit key differs from its code": lambda: make_unit(key="990189"),
    "registry key on a unit with a code": lambda: make_unit(key="X990188"),
    "code-less unit without an X key": lambda: make_unit(key="990188", code=None),
    "registry key with a malformed tail": lambda: make_unit(key="X9901", code=None),
    "duplicate unit code": lambda: (make_unit(), make_unit()),
    "unknown unit type": lambda: make_unit(unit_type="village"),
    "unknown parent type": lambda: make_unit(parent_type="county"),
    "last year before first year": lambda: make_unit(first_year=2016, last_year=2015),
    "implausible first year": lambda: make_unit(first_year=1066),
    "province code not ending in 0000": lambda: models.Province.objects.create(code="990100", name_zh="x", name_pinyin="x", name_en="x"),
    "prefecture code not ending in 00": lambda: models.Prefecture.objects.create(
        code="990101", name_zh="x", name_pinyin="x", name_en="x", province=ProvinceFactory()
    ),
    "succession to itself": lambda: (lambda u: make_succession(predecessor=u, successor=u, successor_code=u.key))(UnitFactory()),
    "two primary successors": second_primary,
    "primary area transfer": lambda: make_succession(kind=models.SuccessionKind.AREA_TRANSFER),
    "succession code malformed": lambda: make_succession(successor_code="12345"),
    "duplicate designation in a batch": duplicate_designation,
    "designation with unknown kind": lambda: DesignationFactory(kind="rumoured"),
    "batch with unknown level": lambda: make_batch(level="county"),
    "provincial batch without its province": lambda: make_batch(level="provincial"),
    "national batch naming a province": lambda: make_batch(province=ProvinceFactory()),
    "duplicate provincial batch": duplicate_provincial_batch,
    "lifecycle step unknown": lambda: make_step(step="rumoured"),
    "withdrawal without a reason": lambda: make_step(reason=""),
    "two withdrawals of one designation": second_withdrawal,
    "funds step without an amount": lambda: make_step(step="funds"),
    "negative funds recovered": lambda: make_step(funds_recovered=Decimal("-1")),
    "lifecycle date outside its year": lambda: make_step(date=date(2029, 12, 31)),
    "lifecycle date without its year": lambda: make_step(year=None, date=date(2030, 1, 2)),
    "designation with unknown source kind": lambda: DesignationFactory(source_kind="hearsay"),
    "designation without a source": lambda: DesignationFactory(source=""),
    "batch year before the programme": lambda: make_batch(year=2013),
    "batch year implausibly late": lambda: make_batch(year=2101),
    "duplicate batch year and sequence": duplicate_batch,
    "batch sequence zero": lambda: make_batch(sequence=0),
    "negative batch funds": lambda: make_batch(central_funds_total=Decimal("-1")),
    "negative funds per county": lambda: make_batch(central_funds_per_county=Decimal("-0.01")),
    "minimum share over 100%": lambda: make_batch(min_poverty_share_pct=Decimal("100.5")),
    "published share over 100%": lambda: make_batch(published_poverty_share_pct=Decimal("101")),
    "negative funding amount": lambda: FundingAllocationFactory(amount=Decimal("-0.01")),
    "funding year before the programme": lambda: FundingAllocationFactory(fiscal_year=2013),
    "unknown funding level": lambda: FundingAllocationFactory(level="township"),
    "funding without a source": lambda: FundingAllocationFactory(source=""),
    "poverty status with unknown region": lambda: PovertyStatusFactory(region="north"),
    "poverty exit year implausible": lambda: PovertyStatusFactory(exit_year=1999),
    "poverty exit year before the first exits (2016)": lambda: PovertyStatusFactory(exit_year=2015),
    "poverty exit year after the last exits (2020)": lambda: PovertyStatusFactory(exit_year=2021),
    "contiguous area named without the flag": lambda: PovertyStatusFactory(contiguous_area="武陵山区", is_contiguous_area_county=None),
    "two poverty statuses for one unit": duplicate_poverty_status,
    "figure without a source": lambda: make_fact(source=""),
    "figure with unknown source kind": lambda: make_fact(source_kind="rumour"),
    "duplicate figure id": lambda: (make_fact(), make_fact()),
    "duplicate published province count": duplicate_published_count,
}


@pytest.mark.parametrize("make_bad_row", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_database_refuses_bad_row(make_bad_row):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_bad_row()


GOOD_ROWS = {
    "unit": make_unit,
    "code-less unit with a registry key": lambda: make_unit(key="X990188", code=None),
    "succession": make_succession,
    "batch": make_batch,
    "designation": DesignationFactory,
    "funding of zero yuan": lambda: FundingAllocationFactory(amount=Decimal("0")),
    "poverty status with categories unknown": PovertyStatusFactory,
    "poverty status in a named area": lambda: PovertyStatusFactory(contiguous_area="武陵山区", is_contiguous_area_county=True),
    "figure": make_fact,
}


@pytest.mark.parametrize("make_good_row", GOOD_ROWS.values(), ids=GOOD_ROWS.keys())
def test_database_accepts_the_valid_counterpart(make_good_row):
    """The constraints above refuse only what they should: the valid row of each kind saves."""
    with transaction.atomic():
        make_good_row()


def test_a_unit_is_designated_once_per_batch_and_again_in_any_other(english):
    """The rule is on the unit and the batch, not the unit alone nor the year: a repeat in another
    batch, of the same year or a later one, is a second batch entry (DESIGN.md: 51 counties were
    designated twice by 2020); the same batch twice is refused."""
    unit = UnitFactory()
    first = BatchFactory(year=2030, sequence=1)
    DesignationFactory(unit=unit, batch=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        DesignationFactory(unit=unit, batch=first)
    DesignationFactory(unit=unit, batch=BatchFactory(year=2030, sequence=2))
    DesignationFactory(unit=unit, batch=BatchFactory(year=2031, sequence=1))
    assert sorted(unit.designations.values_list("batch__year", "batch__sequence")) == [(2030, 1), (2030, 2), (2031, 1)]
    # The admin form and the API (full_clean) check the same constraint before writing, with its message.
    with pytest.raises(ValidationError) as refused:
        models.Designation(unit=unit, batch=first, source="test", source_kind="official").validate_constraints()
    assert refused.value.messages == ["This unit is already designated in this batch."]


def test_unit_type_display_is_djangos_in_both_languages():
    # Unit overrides get_unit_type_display (Django's hashes every lazy label on each call); the
    # label must stay the one Django gives, in the active language.
    from django.db.models import Model
    from django.utils import translation

    field = models.Unit._meta.get_field("unit_type")
    units = list(models.Unit.objects.all())
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for unit in {u.unit_type: u for u in units}.values():
                assert unit.get_unit_type_display() == Model._get_FIELD_display(unit, field)
    with translation.override("en"):
        assert models.Unit.objects.get(key="130705").get_unit_type_display() == "district"
