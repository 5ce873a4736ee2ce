"""Serializers of the programme's records: units (with their place's poverty status and
designations), provinces, batches, designations, funding allocations and poverty statuses."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from counties.models import (
    REGISTRY_KEY_REGEX,
    Batch,
    Designation,
    FundingAllocation,
    LifecycleRecord,
    PovertyStatus,
    Prefecture,
    Province,
    Unit,
    UnitSuccession,
    code_in_use,
    outcomes_of,
)
from counties.reads import selectors
from counties.reads.selectors import attach_place_records
from counties.reads.sql import IdSetQuery

PROVENANCE_FIELDS = ["source", "source_kind", "source_note"]


class ModelValidatedSerializer(serializers.ModelSerializer):
    """Runs the model's own validation (field checks and database constraints), as the admin's forms
    do, so every door refuses the same records with the same messages."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        model: type[Model] = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
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
        fields = ["code", "name_zh", "name_en", "short_name_zh", "short_name_en"]


class PrefectureRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prefecture
        fields = ["code", "name_zh", "name_en"]


class ProvinceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name_zh", "name_pinyin", "name_en", "short_name_zh", "short_name_en", "updated_at"]


class SuccessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = UnitSuccession
        fields = ["successor_code", "year", "kind", "is_primary"]


class UnitPovertySerializer(serializers.ModelSerializer):
    listed_as = serializers.CharField(
        source="unit.key", help_text="Registry key of the unit as listed among the 832 (an earlier code of this place, or itself)."
    )
    listed_name = serializers.CharField()

    class Meta:
        model = PovertyStatus
        fields = [
            "listed_as",
            "listed_name",
            "region",
            "exit_year",
            "is_key_county_2012",
            "is_contiguous_area_county",
            "contiguous_area",
            "source_kind",
        ]


class UnitDesignationSerializer(serializers.ModelSerializer):
    batch_year = serializers.IntegerField(source="batch.year")
    batch_sequence = serializers.IntegerField(source="batch.sequence")
    designated_as = serializers.CharField(
        source="unit.key", help_text="Registry key of the unit as designated (an earlier code, or itself)."
    )

    level = serializers.CharField(help_text="national | provincial: a provincial designation never counts toward the national figures.")
    kind = serializers.CharField(help_text="new | repeat | upgraded (升级版 / 典型县).")
    counted = serializers.BooleanField(source="counts", help_text="Whether the counts count it today (national, not withdrawn).")

    class Meta:
        model = Designation
        fields = ["id", "batch_year", "batch_sequence", "designated_as", "level", "kind", "counted", "source_kind"]


class UnitListSerializer(serializers.ListSerializer):
    """Loads the place records of a whole page at once (a fixed number of queries)."""

    def to_representation(self, data: Any) -> list[Any]:
        return super().to_representation(attach_place_records(data))


class UnitSerializer(serializers.ModelSerializer):
    province = ProvinceRefSerializer()
    prefecture = PrefectureRefSerializer(allow_null=True)
    in_use = serializers.BooleanField(source="is_in_use", help_text="False for a retired code; `current` is what it became.")
    current: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="key", read_only=True, help_text="Registry key of the unit this one has become."
    )
    successors = SuccessionSerializer(source="successions", many=True)
    poverty = serializers.SerializerMethodField(
        help_text="The poverty-county statuses of this place, also when listed under an earlier code (宣化区 as 宣化县): one for each "
        "of the 832 it is or holds (茫崖市 holds 冷湖 and 茫崖, which formed it); empty if none."
    )
    designations = serializers.SerializerMethodField(
        help_text="Every designation of this place, under this code or the codes that became it (`designated_as`)."
    )

    class Meta:
        model = Unit
        list_serializer_class = UnitListSerializer
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

    def to_representation(self, instance: Unit) -> dict[str, Any]:
        if not hasattr(instance, "place_poverty"):
            attach_place_records([instance])
        return super().to_representation(instance)

    @extend_schema_field(UnitPovertySerializer(many=True))
    def get_poverty(self, unit: Unit) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], UnitPovertySerializer(unit.place_poverty, many=True).data)  # many: a list

    @extend_schema_field(UnitDesignationSerializer(many=True))
    def get_designations(self, unit: Unit) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], UnitDesignationSerializer(unit.place_designations, many=True).data)  # many: a list


# The columns `unit_records` reads, one row per unit (the page's rows, or the one unit).
UNIT_VALUES = (
    "pk",
    "key",
    "code",
    "name_zh",
    "name_pinyin",
    "name_en",
    "name_en_generated",
    "other_names",
    "unit_type",
    "parent_type",
    "province__code",
    "province__name_zh",
    "province__name_en",
    "province__short_name_zh",
    "province__short_name_en",
    "prefecture__code",
    "prefecture__name_zh",
    "prefecture__name_en",
    "first_year",
    "last_year",
    "current__key",
    "updated_at",
)
_UPDATED_AT = serializers.DateTimeField()


def _datetime(value: datetime | None, zone: tzinfo | None) -> str | None:
    """What `_UPDATED_AT.to_representation` writes (ISO 8601 in the current time zone `zone`,
    +00:00 as Z), without its per-call look-ups of the settings and the zone: an aware datetime,
    as the database gives them; anything else (or another format: no `zone`) through DRF's field."""
    if value is None:
        return None
    if zone is None or not timezone.is_aware(value):
        return _UPDATED_AT.to_representation(value)
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# Each unit's successions in the model's order (after the predecessor's key, which would join the units).
_SUCCESSION_ROWS = IdSetQuery(
    lambda units: (
        UnitSuccession.objects.filter(predecessor_id__in=units)
        .order_by("year", "successor_code", "pk")
        .values_list("predecessor_id", "successor_code", "year", "kind", "is_primary")
    )
)


def unit_records(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """UnitSerializer's representation, built from plain rows (`UNIT_VALUES`) in four queries
    whatever their number: the successions, then the place records (`selectors.place_records`).

    UnitSerializer stays the API's description of a unit (the OpenAPI schema is generated from
    it) and a test holds the two to the same output for every unit; this builds the same dicts
    without DRF's per-field machinery, which cost most of a list page's time.
    """
    rows = list(rows)
    pks = [row[0] for row in rows]
    successions: dict[int, list[dict[str, Any]]] = {pk: [] for pk in pks}
    for predecessor, successor_code, year, kind, is_primary in _SUCCESSION_ROWS.rows(pks):
        successions[predecessor].append({"successor_code": successor_code, "year": year, "kind": kind, "is_primary": is_primary})
    records = selectors.place_records(pks)
    zone = timezone.get_current_timezone() if api_settings.DATETIME_FORMAT == ISO_8601 else None
    result = []
    for (
        pk,
        key,
        code,
        name_zh,
        name_pinyin,
        name_en,
        name_en_generated,
        other_names,
        unit_type,
        parent_type,
        province_code,
        province_zh,
        province_en,
        province_short_zh,
        province_short_en,
        prefecture_code,
        prefecture_zh,
        prefecture_en,
        first_year,
        last_year,
        current,
        updated_at,
    ) in rows:
        poverty, designations = records[pk]
        result.append(
            {
                "key": key,
                "code": code,
                "name_zh": name_zh,
                "name_pinyin": name_pinyin,
                "name_en": name_en,
                "name_en_generated": name_en_generated,
                "other_names": other_names,
                "unit_type": unit_type,
                "parent_type": parent_type,
                "province": {
                    "code": province_code,
                    "name_zh": province_zh,
                    "name_en": province_en,
                    "short_name_zh": province_short_zh,
                    "short_name_en": province_short_en,
                },
                "prefecture": None
                if prefecture_code is None
                else {"code": prefecture_code, "name_zh": prefecture_zh, "name_en": prefecture_en},
                "first_year": first_year,
                "last_year": last_year,
                "in_use": code_in_use(first_year, last_year),
                "current": current,
                "successors": successions[pk],
                "poverty": [
                    {
                        "listed_as": status.unit.key,
                        "listed_name": status.listed_name,
                        "region": status.region,
                        "exit_year": status.exit_year,
                        "is_key_county_2012": status.is_key_county_2012,
                        "is_contiguous_area_county": status.is_contiguous_area_county,
                        "contiguous_area": status.contiguous_area,
                        "source_kind": status.source_kind,
                    }
                    for status in poverty
                ],
                "designations": [
                    {
                        "id": d.id,
                        "batch_year": d.batch.year,
                        "batch_sequence": d.batch.sequence,
                        "designated_as": d.unit.key,
                        "level": d.level,
                        "kind": d.kind,
                        "counted": d.counts,
                        "source_kind": d.source_kind,
                    }
                    for d in designations
                ],
                "updated_at": _datetime(updated_at, zone),
            }
        )
    return result


class BatchSerializer(serializers.ModelSerializer):
    """A batch with its counts from the one batch-composition statistic (the same numbers as the
    home page, the batch pages and `stats/batches/`); the view passes them as `compositions`."""

    recorded_designations = serializers.SerializerMethodField(help_text="Batch entries recorded (withdrawn designations excluded).")
    illustrative_designations = serializers.SerializerMethodField(help_text="Of which illustrative.")
    poverty_counties = serializers.SerializerMethodField(help_text="Of which poverty counties (by the place rule, as of the batch year).")
    known_in_part = serializers.SerializerMethodField(
        help_text="Known only in part: fewer designations recorded than published, or a published size not recorded (null planned_size)."
    )
    central_funds_per_county_derived = serializers.SerializerMethodField(
        help_text="DERIVED by the registry, not published: central_funds_total / planned_size, where no per-county amount "
        "is published (null otherwise). `central_funds_per_county` is only ever a published amount."
    )

    province = serializers.CharField(source="province.code", read_only=True, allow_null=True, help_text="A provincial batch's province.")

    def composition(self, batch: Batch) -> Any:
        # A provincial batch has no composition: its designations are not counted with the national ones.
        return None if batch.is_provincial else self.context["compositions"][(batch.year, batch.sequence)]

    @extend_schema_field(OpenApiTypes.INT)
    def get_recorded_designations(self, batch: Batch) -> int | None:
        return c.size if (c := self.composition(batch)) else None

    @extend_schema_field(OpenApiTypes.INT)
    def get_illustrative_designations(self, batch: Batch) -> int | None:
        return c.illustrative_entries if (c := self.composition(batch)) else None

    @extend_schema_field(OpenApiTypes.INT)
    def get_poverty_counties(self, batch: Batch) -> int | None:
        return c.poverty_counties if (c := self.composition(batch)) else None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_known_in_part(self, batch: Batch) -> bool | None:
        return bool(c.known_in_part) if (c := self.composition(batch)) else None

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True))
    def get_central_funds_per_county_derived(self, batch: Batch) -> str | None:
        derived = batch.derived_funds_per_county
        return None if derived is None else f"{derived:.2f}"

    class Meta:
        model = Batch
        fields = [
            "id",
            "year",
            "sequence",
            "level",
            "province",
            "title_zh",
            "title_en",
            "notice_title",
            "document_number",
            "document_date",
            "notice_issuers",
            "document_url",
            "notice_source",
            "notice_source_kind",
            "list_url",
            "list_date",
            "planned_size",
            "provinces_count",
            "central_funds_total",
            "central_funds_per_county",
            "central_funds_per_county_derived",
            "min_poverty_share_pct",
            "published_poverty_counties",
            "published_old_base_counties",
            "published_poverty_share_pct",
            "roster_complete",
            "recorded_designations",
            "illustrative_designations",
            "poverty_counties",
            "known_in_part",
            *PROVENANCE_FIELDS,
            "source_note_zh",
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


class LifecycleRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifecycleRecord
        fields = [
            "id",
            "step",
            "year",
            "date",
            "document_number",
            "document_url",
            "reason",
            "funds_withheld",
            "funds_recovered",
            *PROVENANCE_FIELDS,
        ]
        read_only_fields = fields


class DesignationSerializer(ModelValidatedSerializer):
    unit = UnitKeyField(help_text="Registry key (official code) of the unit as it was when designated.")
    unit_name_zh = serializers.CharField(source="unit.name_zh", read_only=True)
    province = serializers.CharField(source="unit.province.code", read_only=True)
    batch_year = serializers.IntegerField(source="batch.year", read_only=True)
    level = serializers.CharField(source="batch.level", read_only=True, help_text="national | provincial: never counted together.")
    counted = serializers.SerializerMethodField(help_text="Whether the national counts count it today (national, not withdrawn).")
    outcomes = serializers.SerializerMethodField(
        help_text="Where its path has got to: assessed, passed, rectify, failed, accepted, withdrawn, or not_recorded."
    )
    lifecycle = LifecycleRecordSerializer(
        many=True, read_only=True, help_text="Acceptance, withdrawal, funds withheld or recovered, in order."
    )

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_counted(self, designation: Designation) -> bool:
        if not hasattr(designation, "counts"):  # a record just written: asked of the one rule
            return Designation.objects.counted().filter(pk=designation.pk).exists()
        return bool(designation.counts)

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_outcomes(self, designation: Designation) -> list[str]:
        if not hasattr(designation, "latest_result"):  # a record just written: read with its outcome
            designation = Designation.objects.with_outcome().get(pk=designation.pk)
        return outcomes_of(designation.latest_result, designation.is_accepted, designation.is_withdrawn)  # type: ignore[attr-defined]  # an annotation the stubs cannot see

    class Meta:
        model = Designation
        fields = [
            "id",
            "unit",
            "unit_name_zh",
            "province",
            "batch",
            "batch_year",
            "level",
            "kind",
            "counted",
            "outcomes",
            "lifecycle",
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
            "exit_year_note_zh",
            "is_key_county_2012",
            "is_contiguous_area_county",
            "contiguous_area",
            "category_source",
            *PROVENANCE_FIELDS,
            "created_at",
            "updated_at",
        ]
