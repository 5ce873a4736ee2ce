"""Import of indicator values, in long format: one row per code, year and indicator.

    code,year,indicator,value,source,source_kind,source_note
    130705,2019,ec_transaction_volume,52000,宣化区商务局 2019 年统计,official,

Built on the designations' `RegistryResource`, so a file is judged exactly as a designation file is:
strict headers, every error on its row, a record repeated in the file, a code retired by the year
(its successor suggested), the provincial editor's province, the change reason and user in the
history, and nothing written unless every row is valid (one transaction). The same resource serves
the admin (preview, then confirm) and `manage.py import_indicator_values`; the rows are written by
`services.write_records`, as every import's are.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from import_export import fields, widgets

from counties.models import SourceKind
from counties.models.targets import FIRST_VALUE_YEAR, Indicator, IndicatorValue
from counties.writes.imports.programme import ChoiceWidget, RegistryResource, TextWidget, UnitCodeWidget, read_cell, year_in_range


class ValueYearWidget(widgets.IntegerWidget):
    """A year of a value: from 2000, so that the year before a designation can be the growth base."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> int:
        value = read_cell(value, _("a year"))
        text = str(value if value is not None else "").strip().removesuffix(".0")
        if not text:
            raise ValueError(_("the year is empty"))
        if not text.isdigit():
            raise ValueError(_("%(value)s is not a year") % {"value": value})
        return year_in_range(int(text), low=FIRST_VALUE_YEAR)


class IndicatorWidget(widgets.ForeignKeyWidget):
    """An indicator by its catalogue code; an unknown code names the codes there are."""

    def __init__(self) -> None:
        super().__init__(Indicator, field="code")

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Indicator:
        code = str(read_cell(value, _("an indicator code")) or "").strip()
        indicator = Indicator.objects.filter(code=code).first() if code else None
        if indicator is None:
            known = ", ".join(Indicator.objects.order_by("position", "code").values_list("code", flat=True))
            raise ValueError(
                _("%(value)s is not an indicator of the catalogue (%(codes)s)") % {"value": code or _("(empty)"), "codes": known}
            )
        return indicator


class ValueWidget(widgets.DecimalWidget):
    """A non-negative decimal; thousands separators are allowed, floats never used."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Decimal:
        value = read_cell(value, _("a number"))
        text = str(value if value is not None else "").replace(",", "").replace("，", "").strip()
        if not text:
            raise ValueError(_("the value is empty"))
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("%(value)s is not a number") % {"value": value}) from None
        if not number.is_finite():
            raise ValueError(_("%(value)s is not a number") % {"value": value})
        if number < 0:
            raise ValueError(_("the value %(value)s is negative") % {"value": value})
        if number != number.quantize(Decimal("0.0001")):
            raise ValueError(_("%(value)s has more than four decimals") % {"value": value})
        return number


class IndicatorValueResource(RegistryResource):
    code = fields.Field(attribute="unit", column_name="code", widget=UnitCodeWidget())
    year = fields.Field(attribute="year", column_name="year", widget=ValueYearWidget())
    indicator = fields.Field(attribute="indicator", column_name="indicator", widget=IndicatorWidget())
    value = fields.Field(attribute="value", column_name="value", widget=ValueWidget())
    source = fields.Field(attribute="source", column_name="source", widget=TextWidget())
    source_kind = fields.Field(attribute="source_kind", column_name="source_kind", widget=ChoiceWidget(SourceKind.choices))
    source_note = fields.Field(attribute="source_note", column_name="source_note", widget=TextWidget())

    required_headers = ("code", "year", "indicator", "value", "source", "source_kind")
    duplicate_columns = ("code", "year", "indicator")
    # What a row may change in an existing value (the key columns find it): compared to tell an
    # unchanged row, and written when it changed.
    update_fields = ("value", "source", "source_kind", "source_note")

    class Meta:
        model = IndicatorValue
        import_id_fields = ("code", "year", "indicator")
        fields = ("code", "year", "indicator", "value", "source", "source_kind", "source_note")
        export_order = fields

    def get_instance(self, instance_loader: Any, row: dict) -> IndicatorValue | None:
        try:
            unit = UnitCodeWidget().clean(row.get("code"))
            year = ValueYearWidget().clean(row.get("year"))
            indicator = IndicatorWidget().clean(row.get("indicator"))
        except ValueError:
            return None  # reported when the row's fields are imported
        return IndicatorValue.objects.filter(unit=unit, year=year, indicator=indicator).first()


EXAMPLE = {
    "code": "130705",
    "year": "2019",
    "indicator": "ec_transaction_volume",
    "value": "52000",
    "source": "宣化区商务局 2019 年电子商务统计",
    "source_kind": "official",
}


def template_rows() -> list[list[str]]:
    """The header row of an import file, and one example row."""
    header = [field.column_name for field in IndicatorValueResource().get_export_fields()]
    return [header, [EXAMPLE.get(column, "") for column in header]]
