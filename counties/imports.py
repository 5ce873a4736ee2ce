"""Import and export of designations, funding allocations and poverty statuses (django-import-export).

The same resources serve the admin (preview, then confirm) and the `import_*` commands, so a file
is judged the same way through either door. Every row is validated before anything is written;
a file with any error writes nothing. The checks, each reported on its row:

* an unknown column header (and a missing required one);
* an unknown code, or a code retired by the year of the record, with its successor suggested;
* the same record twice in the file;
* a batch that does not exist;
* a malformed or negative amount, a year out of range, an unknown choice;
* a record of another province, for a provincial editor.

Importing official designations of a batch replaces that batch's illustrative records.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from .models import (
    Batch,
    Designation,
    FundingAllocation,
    PovertyStatus,
    SourceKind,
    Unit,
)
from .permissions import restricted_province
from .services import mark_data_changed


class UnitCodeWidget(widgets.ForeignKeyWidget):
    """A unit by its code (or registry key); an unknown code is an error naming it."""

    def __init__(self) -> None:
        super().__init__(Unit, field="key")

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Unit:
        code = str(value or "").strip()
        if code.endswith(".0"):  # a code typed into a spreadsheet number cell
            code = code[:-2]
        if not code:
            raise ValueError(_("the code is empty"))
        unit = Unit.objects.select_related("current", "province").filter(key=code).first()
        if unit is None:
            raise ValueError(_("unknown code %(code)s") % {"code": code})
        return unit

    def render(self, value: Unit | None, obj: Any = None, **kwargs: Any) -> str:
        return value.key if value else ""


class YearWidget(widgets.IntegerWidget):
    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> int | None:
        try:
            year = super().clean(value, row, **kwargs)
        except (ValueError, InvalidOperation):
            raise ValueError(_("%(value)s is not a year") % {"value": value}) from None
        if year is not None and not 2014 <= year <= 2100:
            raise ValueError(_("the year %(year)s is out of range (2014–2100)") % {"year": year})
        return year


class AmountWidget(widgets.DecimalWidget):
    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Decimal | None:
        text = str(value if value is not None else "").replace(",", "").replace("，", "").strip()
        if not text:
            raise ValueError(_("the amount is empty"))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("%(value)s is not an amount in yuan") % {"value": value}) from None
        if not amount.is_finite():
            raise ValueError(_("%(value)s is not an amount in yuan") % {"value": value})
        if amount < 0:
            raise ValueError(_("the amount %(value)s is negative") % {"value": value})
        return amount


class ChoiceWidget(widgets.Widget):
    def __init__(self, choices: list[tuple[str, Any]], default: str | None = None) -> None:
        self.choices = [value for value, _label in choices]
        self.default = default

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str:
        text = str(value or "").strip()
        if not text and self.default is not None:
            return self.default
        if text not in self.choices:
            raise ValueError(_("%(value)s is not one of %(choices)s") % {"value": text or "(empty)", "choices": ", ".join(self.choices)})
        return text


class OptionalBooleanWidget(widgets.BooleanWidget):
    """1/0, true/false, yes/no, 是/否; empty means not determined."""

    TRUE = {"1", "true", "yes", "y", "是"}
    FALSE = {"0", "false", "no", "n", "否"}

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> bool | None:
        text = str(value if value is not None else "").strip().lower()
        if text in ("", "none", "null"):
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("%(value)s is not yes or no") % {"value": value})


class RegistryResource(resources.ModelResource):
    """Shared behaviour: strict headers, duplicates, provincial restriction, change reasons."""

    required_headers: tuple[str, ...] = ()
    user: AbstractBaseUser | None = None
    reason: str = ""

    class Meta:
        # Inherited by every resource: report unchanged rows, run the model's own validation,
        # and import each file in one transaction.
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, user: AbstractBaseUser | None = None, reason: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        self.reason = reason
        self._seen: dict[tuple, int] = {}
        self._duplicate_of: int | None = None

    def allowed_headers(self) -> set[str]:
        return {f.column_name for f in self.get_import_fields()}

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        headers = [str(h or "").strip() for h in (dataset.headers or [])]
        unknown = [h for h in headers if h and h not in self.allowed_headers()]
        missing = [h for h in self.required_headers if h not in headers]
        problems = []
        if unknown:
            problems.append(_("unknown column(s): %(columns)s") % {"columns": ", ".join(unknown)})
        if missing:
            problems.append(_("missing column(s): %(columns)s") % {"columns": ", ".join(missing)})
        if problems:
            allowed = ", ".join(sorted(self.allowed_headers()))
            raise ValidationError("; ".join(problems) + ". " + _("Expected columns: %(columns)s.") % {"columns": allowed})
        self._seen = {}

    duplicate_columns: tuple[str, ...] = ("code",)

    def before_import_row(self, row: Any, row_number: int | None = None, **kwargs: Any) -> None:
        """Remember each record's key as written in the file, to report a repeated record."""
        key = tuple(str(row.get(column) or "").strip().removesuffix(".0") for column in self.duplicate_columns)
        self._duplicate_of = self._seen.get(key)
        if self._duplicate_of is None:
            self._seen[key] = row_number or len(self._seen) + 1

    def skip_row(self, instance: Any, original: Any, row: Any, import_validation_errors: dict | None = None) -> bool:
        # A repeated record must be reported, even when it would change nothing.
        return self._duplicate_of is None and super().skip_row(instance, original, row, import_validation_errors)

    def record_year(self, instance: Any) -> int | None:
        return None

    def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        instance._change_reason = self.reason or _("imported")
        if self.user is not None:
            instance._history_user = self.user  # the command line has no request to take it from

    def validate_instance(self, instance: Any, import_validation_errors: dict | None = None, validate_unique: bool = True) -> None:
        errors = dict(import_validation_errors or {})
        unit = instance.unit if getattr(instance, "unit_id", None) else None
        year = self.record_year(instance)
        if unit is not None and year is not None and unit.last_year is not None and unit.last_year < year:
            successor = unit.current if unit.current_id and unit.current_id != unit.pk else None
            message = _("code %(code)s (%(name)s) was retired after %(last)s") % {
                "code": unit.key,
                "name": unit.name_zh,
                "last": unit.last_year,
            }
            if successor is not None:
                message += "; " + _("use its successor %(code)s (%(name)s)") % {"code": successor.key, "name": successor.name_zh}
            errors.setdefault("code", []).append(message)
        province = restricted_province(self.user) if self.user is not None else None
        if unit is not None and province is not None and unit.province_id != province.pk:
            errors.setdefault("code", []).append(
                _("%(code)s is in %(other)s; you may import records of %(own)s only")
                % {"code": unit.key, "other": unit.province.name_zh, "own": province.name_zh}
            )
        if self._duplicate_of is not None:
            errors.setdefault("code", []).append(
                _("the same record appears earlier in the file (row %(row)s)") % {"row": self._duplicate_of}
            )
        super().validate_instance(instance, errors, validate_unique)


class BatchField(fields.Field):
    """The batch, given as `batch_year` and an optional `batch_sequence` (1 by default)."""

    def clean(self, row: dict, **kwargs: Any) -> Batch:
        year = YearWidget().clean(row.get("batch_year"))
        if year is None:
            raise ValueError(_("batch_year is empty"))
        sequence_text = str(row.get("batch_sequence") or "1").strip().removesuffix(".0")
        if not sequence_text.isdigit():
            raise ValueError(_("%(value)s is not a batch number") % {"value": sequence_text})
        batch = Batch.objects.filter(year=year, sequence=int(sequence_text)).first()
        if batch is None:
            raise ValueError(_("there is no batch %(year)s-%(sequence)s") % {"year": year, "sequence": sequence_text})
        return batch

    def export(self, instance: Designation, **kwargs: Any) -> str:
        return str(instance.batch.year) if instance.batch_id else ""


class DesignationResource(RegistryResource):
    """One row per designation: the unit's code as it was in the batch year, and the batch."""

    code = fields.Field(attribute="unit", column_name="code", widget=UnitCodeWidget())
    batch_year = BatchField(attribute="batch", column_name="batch_year")
    batch_sequence = fields.Field(column_name="batch_sequence", readonly=True)
    status = fields.Field(
        attribute="status", column_name="status", widget=ChoiceWidget(Designation._meta.get_field("status").choices, "designated")
    )
    is_old_revolutionary_base = fields.Field(
        attribute="is_old_revolutionary_base", column_name="is_old_revolutionary_base", widget=OptionalBooleanWidget()
    )
    name_as_reported = fields.Field(attribute="name_as_reported", column_name="name_as_reported")
    source = fields.Field(attribute="source", column_name="source")
    source_kind = fields.Field(attribute="source_kind", column_name="source_kind", widget=ChoiceWidget(SourceKind.choices))
    source_note = fields.Field(attribute="source_note", column_name="source_note")

    required_headers = ("code", "batch_year", "source", "source_kind")
    duplicate_columns = ("code", "batch_year", "batch_sequence")

    class Meta:
        model = Designation
        import_id_fields = ("code", "batch_year")
        fields = (
            "code",
            "batch_year",
            "batch_sequence",
            "status",
            "is_old_revolutionary_base",
            "name_as_reported",
            "source",
            "source_kind",
            "source_note",
        )
        export_order = fields

    def allowed_headers(self) -> set[str]:
        return super().allowed_headers() | {"batch_sequence"}

    def dehydrate_batch_sequence(self, instance: Designation) -> int | str:
        return instance.batch.sequence if instance.batch_id else ""

    def get_instance(self, instance_loader: Any, row: dict) -> Designation | None:
        try:
            unit = UnitCodeWidget().clean(row.get("code"))
            batch = BatchField().clean(row)
        except ValueError:
            return None  # reported when the row's fields are imported
        return Designation.objects.filter(unit=unit, batch=batch).first()

    def record_year(self, instance: Designation) -> int | None:
        return instance.batch.year if instance.batch_id else None

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        """Official designations of a batch replace that batch's illustrative records."""
        super().after_import(dataset, result, **kwargs)
        if result.has_errors() or result.has_validation_errors():
            return
        batches = {
            row.instance.batch_id
            for row in result.rows
            if row.instance is not None and getattr(row.instance, "source_kind", None) == SourceKind.OFFICIAL
        }
        if batches:
            replaced = Designation.objects.filter(batch__in=batches, source_kind=SourceKind.ILLUSTRATIVE)
            FundingAllocation.objects.filter(designation__in=replaced, source_kind=SourceKind.ILLUSTRATIVE).delete()
            count, _deleted = replaced.delete()
            result.replaced_illustrative = count
            mark_data_changed()


class FundingAllocationResource(RegistryResource):
    id = fields.Field(attribute="id", column_name="id", widget=widgets.IntegerWidget())
    code = fields.Field(attribute="unit", column_name="code", widget=UnitCodeWidget())
    fiscal_year = fields.Field(attribute="fiscal_year", column_name="fiscal_year", widget=YearWidget())
    level = fields.Field(attribute="level", column_name="level", widget=ChoiceWidget(FundingAllocation._meta.get_field("level").choices))
    amount = fields.Field(attribute="amount", column_name="amount_yuan", widget=AmountWidget())
    purpose = fields.Field(attribute="purpose", column_name="purpose")
    document_number = fields.Field(attribute="document_number", column_name="document_number")
    document_url = fields.Field(attribute="document_url", column_name="document_url")
    source = fields.Field(attribute="source", column_name="source")
    source_kind = fields.Field(attribute="source_kind", column_name="source_kind", widget=ChoiceWidget(SourceKind.choices))
    source_note = fields.Field(attribute="source_note", column_name="source_note")

    required_headers = ("code", "fiscal_year", "level", "amount_yuan", "source", "source_kind")
    duplicate_columns = ("code", "fiscal_year", "level", "amount_yuan", "document_number", "purpose")

    class Meta:
        model = FundingAllocation
        import_id_fields = ("id",)
        fields = (
            "id",
            "code",
            "fiscal_year",
            "level",
            "amount",
            "purpose",
            "document_number",
            "document_url",
            "source",
            "source_kind",
            "source_note",
        )
        export_order = fields

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        # `id` is only needed to change an existing allocation; a file of new ones may leave it out.
        if dataset.headers and "id" not in dataset.headers:
            dataset.append_col([""] * len(dataset), header="id")
        super().before_import(dataset, **kwargs)

    def get_instance(self, instance_loader: Any, row: dict) -> FundingAllocation | None:
        identifier = str(row.get("id") or "").strip().removesuffix(".0")
        return FundingAllocation.objects.filter(pk=int(identifier)).first() if identifier.isdigit() else None

    def record_year(self, instance: FundingAllocation) -> int | None:
        return instance.fiscal_year


class PovertyStatusResource(RegistryResource):
    code = fields.Field(attribute="unit", column_name="code", widget=UnitCodeWidget())
    listed_name = fields.Field(attribute="listed_name", column_name="listed_name")
    region = fields.Field(attribute="region", column_name="region", widget=ChoiceWidget(PovertyStatus._meta.get_field("region").choices))
    exit_year = fields.Field(attribute="exit_year", column_name="exit_year", widget=YearWidget())
    exit_year_note = fields.Field(attribute="exit_year_note", column_name="exit_year_note")
    is_key_county_2012 = fields.Field(attribute="is_key_county_2012", column_name="is_key_county_2012", widget=OptionalBooleanWidget())
    is_contiguous_area_county = fields.Field(
        attribute="is_contiguous_area_county", column_name="is_contiguous_area_county", widget=OptionalBooleanWidget()
    )
    contiguous_area = fields.Field(attribute="contiguous_area", column_name="contiguous_area")
    source = fields.Field(attribute="source", column_name="source")
    source_kind = fields.Field(attribute="source_kind", column_name="source_kind", widget=ChoiceWidget(SourceKind.choices))
    source_note = fields.Field(attribute="source_note", column_name="source_note")

    required_headers = ("code", "listed_name", "region", "source", "source_kind")

    class Meta:
        model = PovertyStatus
        import_id_fields = ("code",)
        fields = (
            "code",
            "listed_name",
            "region",
            "exit_year",
            "exit_year_note",
            "is_key_county_2012",
            "is_contiguous_area_county",
            "contiguous_area",
            "source",
            "source_kind",
            "source_note",
        )
        export_order = fields

    def get_instance(self, instance_loader: Any, row: dict) -> PovertyStatus | None:
        try:
            unit = UnitCodeWidget().clean(row.get("code"))
        except ValueError:
            return None
        return PovertyStatus.objects.filter(unit=unit).first()


RESOURCES = {
    "designations": DesignationResource,
    "funding": FundingAllocationResource,
    "poverty": PovertyStatusResource,
}

EXAMPLES = {
    "designations": {"code": "130705", "batch_year": "2019", "batch_sequence": "1", "status": "designated", "name_as_reported": "宣化区"},
    "funding": {
        "code": "130705",
        "fiscal_year": "2019",
        "level": "central",
        "amount_yuan": "20000000.00",
        "purpose": "县级电子商务公共服务中心",
    },
    "poverty": {"code": "130721", "listed_name": "宣化县", "region": "east", "exit_year": "2018", "is_key_county_2012": "0"},
}
COMMON_EXAMPLE = {"source": "商建函〔2019〕000号", "source_kind": "official"}


def template_rows(kind: str) -> list[list[str]]:
    """The header row of an import file, and one example row."""
    header = [field.column_name for field in RESOURCES[kind]().get_export_fields()]
    example = EXAMPLES[kind] | COMMON_EXAMPLE
    return [header, [example.get(column, "") for column in header]]
