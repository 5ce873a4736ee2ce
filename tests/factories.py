"""Factories for hand-built records, and small builders on top of them (records, import files,
API payloads). Codes live in provinces 99 and 98 (no such provinces exist), so a built record can
never collide with the loaded reference data."""

from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User

from counties import models
from counties.models.staff import PROVINCIAL_EDITORS


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Province
        django_get_or_create = ("code",)

    code = "990000"
    name_zh = factory.LazyAttribute(lambda o: f"测试省{o.code[:2]}")
    name_pinyin = "Ceshi"
    name_en = "Test Province"
    short_name_zh = factory.LazyAttribute(lambda o: f"测试{o.code[:2]}")
    short_name_en = factory.LazyAttribute(lambda o: f"Test {o.code[:2]}")


class PrefectureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Prefecture
        django_get_or_create = ("code",)

    code = "990100"
    name_zh = "测试市"
    name_pinyin = "Ceshi Shi"
    name_en = "Ceshi City"
    province = factory.SubFactory(ProvinceFactory)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Unit

    code = factory.Sequence(lambda n: f"9901{n % 100:02d}")
    key = factory.SelfAttribute("code")
    name_zh = factory.Sequence(lambda n: f"测试{n}县")
    name_pinyin = factory.Sequence(lambda n: f"Ceshi{n} Xian")
    name_en = factory.Sequence(lambda n: f"Ceshi{n} County")
    unit_type = models.UnitType.COUNTY
    prefecture = factory.SubFactory(PrefectureFactory)
    province = factory.SelfAttribute("prefecture.province")
    parent_type = models.ParentType.PREFECTURE
    first_year = 1983


class UnitSuccessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.UnitSuccession

    predecessor = factory.SubFactory(UnitFactory)
    successor = factory.SubFactory(UnitFactory)
    successor_code = factory.SelfAttribute("successor.key")
    year = 2016
    kind = models.SuccessionKind.REPLACED
    is_primary = True


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Batch

    year = 2030
    sequence = factory.Sequence(lambda n: n + 1)
    title_zh = factory.LazyAttribute(lambda o: f"{o.year}年测试批次")
    title_en = factory.LazyAttribute(lambda o: f"{o.year} test batch")
    source = "test"
    source_kind = models.SourceKind.OFFICIAL


class DesignationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Designation

    unit = factory.SubFactory(UnitFactory)
    batch = factory.SubFactory(BatchFactory)
    source = "test"
    source_kind = models.SourceKind.OFFICIAL


class PovertyStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PovertyStatus

    unit = factory.SubFactory(UnitFactory)
    region = models.Region.WEST
    exit_year = 2019
    listed_name = factory.SelfAttribute("unit.name_zh")
    source = "test"
    source_kind = models.SourceKind.OFFICIAL


class FundingAllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FundingAllocation

    unit = factory.SubFactory(UnitFactory)
    fiscal_year = 2030
    level = models.FundingLevel.CENTRAL
    amount = Decimal("1000000.00")
    source = "test"
    source_kind = models.SourceKind.OFFICIAL


# -- small worlds worked out by hand ---------------------------------------------------------------


def unit(code, name, *, province="990000", first_year=1983, last_year=None):
    """A county named `name` in every language, directly under a test province."""
    return UnitFactory(
        code=code,
        name_zh=name,
        name_pinyin=name,
        name_en=name,
        prefecture=None,
        province=ProvinceFactory(code=province),
        parent_type=models.ParentType.PROVINCE_ADMINISTERED,
        first_year=first_year,
        last_year=last_year,
    )


def succeed(old, new, year):
    return UnitSuccessionFactory(predecessor=old, successor=new, year=year)


def poor(u, exit_year):
    return PovertyStatusFactory(unit=u, exit_year=exit_year)


def designate(u, year, **fields):
    """A designation of `u` in the loaded batch of `year`."""
    return DesignationFactory(unit=u, batch=models.Batch.objects.get(year=year), **fields)


def withdraw(designations, year=None, reason="withdrawn by the ministry"):
    """Withdrawal records for `designations` (a queryset, or one designation), written directly as
    test set-up (the service is tested on its own); `year` None: the year is not recorded."""
    if isinstance(designations, models.Designation):
        designations = [designations]
    return models.LifecycleRecord.objects.bulk_create(
        models.LifecycleRecord(
            designation=d, step="withdrawn", year=year, reason=reason, source="商办建函〔2019〕1号", source_kind="official"
        )
        for d in designations
    )


# -- import files and API payloads -----------------------------------------------------------------

# The designation import's header row.
HEADER = "code,batch_year,kind,source,source_kind\n"
OFFICIAL_HEBEI_2016 = HEADER + "130102,2016,new,财建〔2016〕1号,official\n"


def csv_file(tmp_path, text, name="designations.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def designation_payload(code="110101", year=2018):
    return {
        "unit": code,
        "batch": models.Batch.objects.get(year=year).pk,
        "kind": "new",
        "source": "商建函〔2018〕1号",
        "source_kind": "official",
    }


def illustrative(**filters):
    """The illustrative designations (the roster's), narrowed by `filters`."""
    return models.Designation.objects.filter(source_kind="illustrative", **filters)


def provincial_editor(province="130000", name="hebei"):
    """A provincial editor of `province` (None: one whose profile names no province yet)."""
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=PROVINCIAL_EDITORS))
    if province is not None:
        models.StaffProfile.objects.create(user=user, province=models.Province.objects.get(code=province))
    return user
