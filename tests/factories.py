"""Factories for hand-built records. Codes live in province 99 (no such province exists), so a
built record can never collide with the loaded reference data."""

from decimal import Decimal

import factory

from counties import models


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Province
        django_get_or_create = ("code",)

    code = "990000"
    name_zh = "测试省"
    name_pinyin = "Ceshi"
    name_en = "Test Province"
    short_name_zh = "测试"
    short_name_en = "Test"


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
