from __future__ import annotations

import copy
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from counties.models import (
    REGISTRY_KEY_REGEX,
    Batch,
    Designation,
    FundingAllocation,
    PovertyStatus,
    Prefecture,
    Province,
    Unit,
    UnitSuccession,
)

PROVENANCE_FIELDS = ["source", "source_kind", "source_note"]


class ModelValidatedSerializer(serializers.ModelSerializer):
    """Runs the model's own validation (field checks and database constraints), as the admin's forms
    do, so every door refuses the same records with the same messages."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        instance = copy.copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc
        return attrs


class ProvinceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name_zh", "name_en"]


class PrefectureRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prefecture
        fields = ["code", "name_zh", "name_en"]


class ProvinceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name_zh", "name_pinyin", "name_en", "updated_at"]


class SuccessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = UnitSuccession
        fields = ["successor_code", "year", "kind", "is_primary"]


class UnitPovertySerializer(serializers.ModelSerializer):
    class Meta:
        model = PovertyStatus
        fields = ["region", "exit_year", "is_key_county_2012", "is_contiguous_area_county", "contiguous_area", "source_kind"]


class UnitDesignationSerializer(serializers.ModelSerializer):
    batch_year = serializers.IntegerField(source="batch.year")
    batch_sequence = serializers.IntegerField(source="batch.sequence")

    class Meta:
        model = Designation
        fields = ["id", "batch_year", "batch_sequence", "status", "source_kind"]


class UnitSerializer(serializers.ModelSerializer):
    province = ProvinceRefSerializer()
    prefecture = PrefectureRefSerializer(allow_null=True)
    in_use = serializers.BooleanField(source="is_in_use", help_text="False for a retired code; `current` is what it became.")
    current = serializers.SlugRelatedField(slug_field="key", read_only=True, help_text="Registry key of the unit this one has become.")
    successors = SuccessionSerializer(source="successions", many=True)
    poverty = UnitPovertySerializer(source="poverty_status", allow_null=True, default=None)
    designations = UnitDesignationSerializer(many=True)

    class Meta:
        model = Unit
        fields = [
            "key",
            "code",
            "name_zh",
            "name_pinyin",
            "name_en",
            "name_en_generated",
            "other_names",
            "unit_type",
            "parent_type",
            "province",
            "prefecture",
            "first_year",
            "last_year",
            "in_use",
            "current",
            "successors",
            "poverty",
            "designations",
            "updated_at",
        ]


class BatchSerializer(serializers.ModelSerializer):
    recorded_designations = serializers.IntegerField(read_only=True)
    illustrative_designations = serializers.IntegerField(read_only=True)

    class Meta:
        model = Batch
        fields = [
            "id",
            "year",
            "sequence",
            "title_zh",
            "title_en",
            "document_number",
            "document_date",
            "document_url",
            "planned_size",
            "provinces_count",
            "central_funds_total",
            "central_funds_per_county",
            "min_poverty_share_pct",
            "published_poverty_counties",
            "published_old_base_counties",
            "published_poverty_share_pct",
            "roster_complete",
            "recorded_designations",
            "illustrative_designations",
            *PROVENANCE_FIELDS,
            "updated_at",
        ]


class UnitKeyField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="key", queryset=Unit.objects.all(), **kwargs)

    def to_internal_value(self, data: Any) -> Unit:
        # Only a well-formed key is looked up: a NUL byte in it would be a database error on PostgreSQL.
        if not isinstance(data, str | int) or not re.fullmatch(REGISTRY_KEY_REGEX, str(data)):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data).replace("\x00", "\\x00"))
        return super().to_internal_value(data)


class DesignationSerializer(ModelValidatedSerializer):
    unit = UnitKeyField(help_text="Registry key (official code) of the unit as it was when designated.")
    unit_name_zh = serializers.CharField(source="unit.name_zh", read_only=True)
    province = serializers.CharField(source="unit.province.code", read_only=True)
    batch_year = serializers.IntegerField(source="batch.year", read_only=True)

    class Meta:
        model = Designation
        fields = [
            "id",
            "unit",
            "unit_name_zh",
            "province",
            "batch",
            "batch_year",
            "status",
            "is_old_revolutionary_base",
            "name_as_reported",
            *PROVENANCE_FIELDS,
            "created_at",
            "updated_at",
        ]


class FundingAllocationSerializer(ModelValidatedSerializer):
    unit = UnitKeyField()
    province = serializers.CharField(source="unit.province.code", read_only=True)

    class Meta:
        model = FundingAllocation
        fields = [
            "id",
            "unit",
            "province",
            "designation",
            "fiscal_year",
            "level",
            "amount",
            "purpose",
            "document_number",
            "document_url",
            *PROVENANCE_FIELDS,
            "created_at",
            "updated_at",
        ]


class PovertyStatusSerializer(ModelValidatedSerializer):
    unit = UnitKeyField()
    unit_name_zh = serializers.CharField(source="unit.name_zh", read_only=True)
    province = serializers.CharField(source="unit.province.code", read_only=True)

    class Meta:
        model = PovertyStatus
        fields = [
            "id",
            "unit",
            "unit_name_zh",
            "province",
            "listed_name",
            "region",
            "exit_year",
            "exit_year_note",
            "is_key_county_2012",
            "is_contiguous_area_county",
            "contiguous_area",
            "category_source",
            *PROVENANCE_FIELDS,
            "created_at",
            "updated_at",
        ]


# -- statistics -------------------------------------------------------------------------------

PCT = {"max_digits": 5, "decimal_places": 1, "allow_null": True}
YUAN = {"max_digits": 18, "decimal_places": 2}


class AsOfSerializer(serializers.Serializer):
    as_of = serializers.IntegerField(required=False, min_value=2014, help_text="Year-end (default: the latest year with a batch).")

    def __init__(self, *args: Any, latest: int = 2100, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latest = latest

    def validate_as_of(self, value: int) -> int:
        if value > self.latest:
            raise serializers.ValidationError(f"The latest year with a batch is {self.latest}.")
        return value


class CoverageSerializer(serializers.Serializer):
    as_of = serializers.IntegerField()
    batch_entries = serializers.IntegerField()
    demonstration_counties = serializers.IntegerField()
    new_entries = serializers.IntegerField()
    repeat_designations = serializers.IntegerField()
    poverty_counties_total = serializers.IntegerField()
    poverty_counties_covered = serializers.IntegerField()
    poverty_coverage_pct = serializers.DecimalField(**PCT)
    includes_illustrative = serializers.BooleanField()


class BatchStatisticsSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    sequence = serializers.IntegerField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField()
    published_size = serializers.IntegerField(allow_null=True)
    size = serializers.IntegerField()
    poverty_counties = serializers.IntegerField()
    poverty_share_pct = serializers.DecimalField(**PCT)
    min_poverty_share_pct = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    meets_rule = serializers.BooleanField(allow_null=True)
    old_revolutionary_base_counties = serializers.IntegerField()
    provinces = serializers.IntegerField()
    central_funds_total_yuan = serializers.DecimalField(**YUAN, allow_null=True)
    central_funds_per_county_yuan = serializers.DecimalField(**YUAN, allow_null=True)
    central_funds_allocated_yuan = serializers.DecimalField(**YUAN)
    roster_complete = serializers.BooleanField()
    includes_illustrative = serializers.BooleanField()


class ProvinceStatisticsSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    county_level_units = serializers.IntegerField()
    poverty_counties = serializers.IntegerField()
    batch_entries = serializers.IntegerField()
    demonstration_counties = serializers.IntegerField()
    poverty_counties_covered = serializers.IntegerField()
    poverty_coverage_pct = serializers.DecimalField(**PCT)
    funds_yuan = serializers.DecimalField(**YUAN)
    includes_illustrative = serializers.BooleanField()


class FundingTotalSerializer(serializers.Serializer):
    key = serializers.CharField()
    total_yuan = serializers.DecimalField(**YUAN)
    allocations = serializers.IntegerField()
    includes_illustrative = serializers.BooleanField()


class FundingStatisticsSerializer(serializers.Serializer):
    total_yuan = serializers.DecimalField(**YUAN)
    by_year = FundingTotalSerializer(many=True)
    by_province = FundingTotalSerializer(many=True)
    by_level = FundingTotalSerializer(many=True)
    by_source_kind = FundingTotalSerializer(many=True)
    includes_illustrative = serializers.BooleanField()


class ExitStatisticsSerializer(serializers.Serializer):
    exit_year = serializers.IntegerField(allow_null=True)
    poverty_counties = serializers.IntegerField()
    designated_before_exit = serializers.IntegerField()
    includes_illustrative = serializers.BooleanField()
