"""One FilterSet per listable model, shared by the public pages, the API and the exports.

Every parameter is validated: an unknown choice, a malformed year or a code that is not six
digits is a form error naming the parameter, which the API turns into a 400 and the pages into a
message. Orderings come from a whitelist and always end with the primary key.
"""

from __future__ import annotations

import builtins
import copy
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Lower, Replace
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from counties.models import (
    FIRST_DIVISION_YEAR,
    KEY_PATTERN,
    LAST_PLAUSIBLE_YEAR,
    Batch,
    Designation,
    DesignationKind,
    FundingAllocation,
    FundingLevel,
    LifecycleRecord,
    Outcome,
    PovertyStatus,
    Prefecture,
    ProgrammeLevel,
    Province,
    Region,
    SourceKind,
    Unit,
    UnitType,
    as_of_year,
    in_use_at_q,
    naming,
)
from counties.reads import selectors, statistics
from counties.reads.places import held_by_place_named, place_units, units_named
from counties.reads.statistics.index import CODES, PLACES, UNITS

CODE_VALIDATOR = RegexValidator(rf"^{KEY_PATTERN}$", _("Enter a 6-digit code (or a registry key such as X632801)."))


class YearsField(forms.CharField):
    """'2016', '2015,2017' or '2015-2017' → a sorted list of years."""

    default_error_messages = {
        "invalid": _("Enter a year, years separated by commas, or a range such as 2015-2017."),
        "range": _("Years must lie between %(low)s and %(high)s."),
    }

    def to_python(self, value: Any) -> list[int] | None:  # type: ignore[override]  # a CharField's text, read as years
        value = super().to_python(value)
        if not value:
            return None
        years: set[int] = set()
        for part in value.split(","):
            part = part.strip()
            match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", part)
            if not match:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            low, high = int(match[1]), int(match[2] or match[1])
            if low > high:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            if low < FIRST_DIVISION_YEAR or high > LAST_PLAUSIBLE_YEAR:
                params = {"low": FIRST_DIVISION_YEAR, "high": LAST_PLAUSIBLE_YEAR}
                raise ValidationError(self.error_messages["range"], code="range", params=params)
            years.update(range(low, high + 1))
        return sorted(years)


class YearsFilter(django_filters.Filter):
    field_class = YearsField

    def filter(self, qs: QuerySet, value: list[int] | None) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class StrictBooleanField(forms.NullBooleanField):
    """true/false/1/0/yes/no; anything else is an error, not silently ignored."""

    TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
    widget = forms.TextInput  # NullBooleanSelect would turn an unknown value into "no filter"

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]  # django-stubs gives NullBooleanField BooleanField's type
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError(_("Enter true or false."), code="invalid")

    def validate(self, value: bool | None) -> None:
        pass


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC before it reaches the database (PostgreSQL refuses
    unusual offsets such as +23:57 that ISO 8601 allows)."""

    def to_python(self, value: Any) -> datetime | None:
        try:
            parsed = super().to_python(value)
        except ValidationError:
            if isinstance(value, str) and re.search(r"\d \d{2}(:?\d{2})?$", value.strip()):
                # A '+' written unencoded in a URL arrives as a space.
                message = _("Enter a valid date/time. A '+' before the time zone must be written %%2B in a URL, e.g. %(example)s.")
                raise ValidationError(message, code="invalid", params={"example": "2024-01-01T00:00:00%2B08:00"}) from None
            raise
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed
        except (OverflowError, ValueError):
            raise ValidationError(_("Enter a date and time between the years 1 and 9999."), code="invalid") from None


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("updated since"))
        super().__init__(field_name="updated_at", lookup_expr="gte", **kwargs)


class YearField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=FIRST_DIVISION_YEAR, max_value=LAST_PLAUSIBLE_YEAR, **kwargs)


class YearFilter(django_filters.NumberFilter):
    field_class = YearField


def code_filter_field() -> dict[str, Any]:
    return {"validators": [CODE_VALIDATOR], "max_length": 7}


# The label of every ordering parameter, written out so that makemessages finds it (a label made
# from the parameter's name at run time never reaches the translations: "First year" on a Chinese page).
ORDERING_LABELS = {
    "code": _("code"),
    "pinyin": _("pinyin"),
    "province": _("province"),
    "first_year": _("first year in use"),
    "updated_at": _("updated at"),
    "year": _("year"),
    "sequence": _("batch of the year"),
    "batch_year": _("batch year"),
    "fiscal_year": _("fiscal year"),
    "amount": _("amount"),
    "exit_year": _("exit year"),
    "value": _("value"),
    "score": _("score"),
    "start_year": _("from year"),
}


class OrderingFilter(django_filters.OrderingFilter):
    """A whitelisted ordering that always ends with the primary key, so pages never overlap."""

    def build_choices(self, fields: dict[str, str], labels: dict[str, str]) -> list[tuple[str, Any]]:
        # Lazy labels: built at import time, they must not freeze whichever language was active then.
        # A parameter without a label in ORDERING_LABELS is a KeyError at import, not an English word on a page.
        choices: list[tuple[str, Any]] = []
        for field, param in fields.items():
            label = labels.get(field) or ORDERING_LABELS[param]
            choices.append((param, label))
            # The whole pattern is translated: Chinese writes 启用年份（降序）, with its own brackets.
            choices.append((f"-{param}", format_lazy(gettext_lazy("{} (descending)"), label)))
        return choices

    def menu_choices(self) -> list[tuple[str, Any]]:
        """The orderings as a page's sort menu offers them: each once, and since both directions are
        offered, each says which it is (代码（升序）, 代码（降序）): a bare "code" beside "code
        (descending)" reads as a third order. The API's list of choices keeps django-filter's bare
        ascending label, so its published schema does not change."""
        ascending = gettext_lazy("{} (ascending)")
        return [(value, label if value.startswith("-") else format_lazy(ascending, label)) for value, label in self.extra["choices"]]

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        # With none asked, the view's order stands (each ends with a unique key).
        ordering = [self.get_ordering_value(param) for param in value or () if param]
        if not ordering:
            return qs
        # Empty values last whichever the direction, on SQLite and PostgreSQL alike.
        expressions = [F(name[1:]).desc(nulls_last=True) if name.startswith("-") else F(name).asc(nulls_last=True) for name in ordering]
        return qs.order_by(*expressions, "pk")


class AsOfForm(forms.Form):
    """The statistics page's year-end: a whole year from the programme's first to the latest year
    with a batch (no value: the latest). A bad value is an error naming it, never a silent default."""

    as_of = forms.IntegerField(required=False, error_messages={"invalid": _("Enter the year as four digits, such as 2018.")})

    def __init__(self, data: Any, *, latest: int) -> None:
        super().__init__(data)
        self.latest = latest

    def clean_as_of(self) -> int:
        return as_of_year(self.cleaned_data.get("as_of"), self.latest)


# The county list's scopes (selectors.SCOPES) as the API's filters: the same units, so the page's
# JSON link shows what the page shows.
SCOPE_FILTERS = {selectors.PLACES: {"designated": "true"}, selectors.UNITS: {"designated_unit": "true"}, selectors.ALL: {}}

# How a place-rule filter counts (statistics.COUNT_AS), as the county list's scope has it: its
# demonstration counties are places, its designated units units under their own code, and all units
# every code. The page's filters count by its scope; the API's by `count_as` (places by default).
COUNT_AS_CHOICES = [
    (PLACES, _("places as of the list's year-end (units in use then), counting records under earlier codes")),
    (UNITS, _("units holding the record under their own code (retired codes included)")),
    (CODES, _("every code of such a place, earlier and later")),
]
SCOPE_COUNTS_AS = {selectors.PLACES: PLACES, selectors.UNITS: UNITS, selectors.ALL: CODES}


def page_query(params: Any, scope: str) -> Any:
    """The county list page's query for its filterset: its place-rule filters count by its scope."""
    query = params.copy()
    query["count_as"] = SCOPE_COUNTS_AS.get(scope, PLACES)
    return query


def api_query(params: Any, scope: str) -> dict[str, str]:
    """The county list page's query as the API's (/api/v1/counties/): its filters and ordering,
    with the page's scope turned into the filter that selects the same units and the rule its
    place-rule filters count by."""
    query = {name: params[name] for name in UnitFilterSet.base_filters if params.get(name) and name != "count_as"}
    if any(query.get(name) for name in ("poverty", "batch_year", "exit_year")) and scope != selectors.PLACES:
        query["count_as"] = SCOPE_COUNTS_AS[scope]
    return query | SCOPE_FILTERS.get(scope, {})


class ShallowCopies(dict):
    """A filterset's declared filters, copied for each request one level deep. django-filter
    deep-copies them (the province filter's queryset, every list of choices: some 650 copies, a
    tenth of a cold list's view); a filter keeps nothing of a request but its parent and model,
    which the filterset sets on each copy, so a shallow copy serves. A filter with a method gets
    it bound to the copy (django-filter binds it to the filter it was made on)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, django_filters.Filter]:
        copies = {}
        for name, base in self.items():
            copies[name] = copy.copy(base)
            if base.method is not None:
                copies[name].method = base.method
        return copies


class UnitFilterSet(django_filters.FilterSet):
    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), to_field_name="code", label=_("province (code)"))
    prefecture = django_filters.ModelChoiceFilter(queryset=Prefecture.objects.all(), to_field_name="code", label=_("prefecture (code)"))
    type = django_filters.ChoiceFilter(field_name="unit_type", choices=UnitType.choices, label=_("type"))
    poverty = BooleanFilter(
        method="filter_poverty", label=_("one of the 832 poverty counties (counted as count_as says: by default their places)")
    )
    exit_year = YearFilter(method="filter_exit_year", label=_("poverty exit year (of the poverty counties, counted as count_as says)"))
    batch_year = YearsFilter(
        method="filter_batch_year",
        label=_("designated in batch year(s), 2016, 2015,2017 or 2015-2017 (counted as count_as says: by default the places)"),
    )
    count_as = django_filters.ChoiceFilter(
        method="filter_count_as",
        choices=COUNT_AS_CHOICES,
        empty_label=None,
        label=_("how poverty, batch_year and exit_year count: places (the default), units or codes"),
    )
    designated = BooleanFilter(
        method="filter_designated",
        label=_("a demonstration county: a place (unit in use) designated in any batch, under this or an earlier code"),
    )
    designated_unit = BooleanFilter(
        method="filter_designated_unit", label=_("a unit designated under its own code in any batch (retired codes included)")
    )
    in_use = BooleanFilter(method="filter_in_use", label=_("code in use today"))
    code = django_filters.CharFilter(method="filter_code", label=_("code; an old code also finds its successor"), **code_filter_field())
    q = django_filters.CharFilter(method="filter_q", label=_("code, Chinese name, pinyin or English name"), max_length=50)
    updated_since = UpdatedSinceFilter(
        method="filter_updated_since",
        label=_("updated since: the unit, or a poverty status or designation of its place (added, changed or removed)"),
    )
    ordering = OrderingFilter(
        fields=(
            ("key", "code"),
            ("name_pinyin", "pinyin"),
            ("province__code", "province"),
            ("first_year", "first_year"),
            ("updated_at", "updated_at"),
        ),
    )

    class Meta:
        model = Unit
        fields: list[str] = []

    @classmethod
    def get_filters(cls) -> dict[str, django_filters.Filter]:
        return ShallowCopies(super().get_filters())

    def __init__(self, data: Any = None, queryset: QuerySet[Unit] | None = None, *, request: Any = None, prefix: str | None = None) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        self._left_out: str | None = None  # the filter `qs_without` is leaving out, while it runs

    # Built once: no field here depends on the request, and building the form class (its thirteen
    # fields, then the class) for every request cost a cold list a millisecond. Each form made
    # from it still gets its own copies of the fields, as Django's forms always do.
    _form_class: ClassVar[builtins.type[forms.Form] | None] = None  # builtins': this class has a filter named type

    def get_form_class(self) -> builtins.type[forms.Form]:
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = cls._form_class = super().get_form_class()
        return form_class

    def in_force(self) -> set[str]:
        """The filters this (valid) filterset applies (an ordering is not one, nor how they count)."""
        return {
            name for name, value in self.form.cleaned_data.items() if name not in ("ordering", "count_as") and value not in EMPTY_VALUES
        }

    def counting(self) -> str:
        """How this (valid) filterset's place-rule filters count (`COUNT_AS`): places unless asked."""
        return self.form.cleaned_data.get("count_as") or PLACES

    def filter_count_as(self, qs: QuerySet[Unit], name: str, value: str) -> QuerySet[Unit]:
        return qs  # not a filter: how the others count

    def qs_without(self, name: str, queryset: QuerySet[Unit] | None = None) -> QuerySet[Unit]:
        """The units filtered by every filter of this (valid) filterset but `name`: a facet's
        other values are counted over them (the same cleaned values, not validated twice). From
        `queryset` instead of the filterset's own if given (one not narrowed to the province)."""
        units = (self.queryset if queryset is None else queryset).all()
        self._left_out = name
        try:
            for field, value in self.form.cleaned_data.items():
                if field != name:
                    units = self.filters[field].filter(units, value)
        finally:
            self._left_out = None
        return units

    def filter_poverty(self, qs: QuerySet[Unit], name: str, value: bool | None) -> QuerySet[Unit]:
        if value is None:
            return qs
        poverty = Q(pk__in_ids=statistics.list_index().poverty(self.counting()))
        return qs.filter(poverty if value else ~poverty)

    def filter_batch_year(self, qs: QuerySet[Unit], name: str, value: list[int] | None) -> QuerySet[Unit]:
        if not value:
            return qs
        # A place designated in those years under any of its codes, or a unit under its own, or both.
        return qs.filter(pk__in_ids=statistics.list_index().years(value, self.counting()))

    def filter_designated(self, qs: QuerySet[Unit], name: str, value: bool | None) -> QuerySet[Unit]:
        if value is None:
            return qs
        places = Q(pk__in_ids=statistics.list_index().places_in(self._province()))
        return qs.filter(places if value else ~places)

    def filter_designated_unit(self, qs: QuerySet[Unit], name: str, value: bool | None) -> QuerySet[Unit]:
        if value is None:
            return qs
        units = Q(pk__in_ids=statistics.list_index().designated_in(self._province()))
        return qs.filter(units if value else ~units)

    def _province(self) -> str | None:
        """The code of the province the list is filtered to, if any: a place-rule filter then sends
        the database that province's ids only (the province filter applies all the same)."""
        province = self.form.cleaned_data.get("province")
        if province is None or self._left_out == "province":
            return None
        return province.code

    def filter_exit_year(self, qs: QuerySet[Unit], name: str, value: int | None) -> QuerySet[Unit]:
        return qs if value is None else qs.filter(pk__in_ids=statistics.list_index().exited(value, self.counting()))

    def filter_updated_since(self, qs: QuerySet[Unit], name: str, value: datetime | None) -> QuerySet[Unit]:
        """A unit as the API shows it carries its place's poverty status and designations: a change
        to one of those (or its removal) changes the unit's record as much as an edit of the unit,
        and a partner syncing the units must see it. Read from the records' history, which keeps
        removals too: every unit of the place a changed record's unit has become carries it."""
        if value is None:
            return qs
        held = Q()
        for model in (PovertyStatus, Designation):
            held |= Q(pk__in=model.history.filter(history_date__gte=value).values("unit_id"))
        # A designation's lifecycle record decides whether it counts, which the record shows.
        held |= Q(
            pk__in=Designation.objects.filter(
                pk__in=LifecycleRecord.history.filter(history_date__gte=value).values("designation_id")
            ).values("unit_id")
        )
        return qs.filter(Q(updated_at__gte=value) | Q(pk__in=place_units(Unit.objects.filter(held))))

    def filter_in_use(self, qs: QuerySet[Unit], name: str, value: bool | None) -> QuerySet[Unit]:
        return qs if value is None else qs.filter(in_use_at_q()) if value else qs.exclude(in_use_at_q())

    def filter_code(self, qs: QuerySet[Unit], name: str, value: str) -> QuerySet[Unit]:
        if not value:
            return qs
        return qs.filter(units_named(value))

    def filter_q(self, qs: QuerySet[Unit], name: str, value: str) -> QuerySet[Unit]:
        value = value.strip()
        if not value:
            return qs
        if value.isdigit():
            return qs.filter(units_named(value, prefix=True))
        if re.fullmatch(KEY_PATTERN, value.upper()):
            # A registry key (a unit with no official code, as 大柴旦 X632803) finds what `code=` finds.
            return qs.filter(units_named(value.upper()))
        # Romanised names are compared as naming.search_key folds them: 'Wǔ dū', 'wu du' and 'WUDU'
        # all find 武都区 (Wudu Qu), "Xi'an" and 'xian' 西安市, 'korla' 库尔勒市 (Korla City).
        key = naming.search_key(value)
        romanised = Q(name_zh__contains=value) | Q(other_names__contains=value)
        if key:
            qs = qs.annotate(_pinyin_key=_folded("name_pinyin"), _english_key=_folded("name_en"))
            romanised |= Q(_pinyin_key__contains=key) | Q(_english_key__contains=key)
        return qs.filter(romanised)


def _folded(field: str) -> Any:
    """`field` lower-cased without the characters naming.search_key drops, and ü as u, in SQL
    (the stored romanisations carry no tone marks; ü is the one letter outside ASCII)."""
    expression: Any = Lower(field)
    for character in (*sorted(naming.SEARCH_IGNORED), "ü"):
        expression = Replace(expression, Value(character), Value("u" if character == "ü" else ""))
    return Replace(expression, Value("v"), Value("u"))


class BatchFilterSet(django_filters.FilterSet):
    year = YearsFilter(field_name="year", label=_("year(s)"))
    level = django_filters.ChoiceFilter(choices=ProgrammeLevel.choices, label=_("level"))
    source_kind = django_filters.ChoiceFilter(choices=SourceKind.choices)
    updated_since = UpdatedSinceFilter()
    ordering = OrderingFilter(fields=(("year", "year"), ("sequence", "sequence")))

    class Meta:
        model = Batch
        fields: list[str] = []


class RecordFilterSet(django_filters.FilterSet):
    """Filters shared by the records that hang off a unit."""

    province = django_filters.ModelChoiceFilter(
        field_name="unit__province", queryset=Province.objects.all(), to_field_name="code", label=_("province (code)")
    )
    code = django_filters.CharFilter(
        method="filter_code",
        label=_("unit code; an old code also finds its successor's records, and a current code those held under the codes it replaced"),
        **code_filter_field(),
    )
    source_kind = django_filters.ChoiceFilter(choices=SourceKind.choices, label=_("source kind"))
    updated_since = UpdatedSinceFilter()

    def filter_code(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return qs
        # The place's records, as the county page and the admin's search: 宣化区 130705 finds 宣化县
        # 130721's poverty status, which stays under the code it was listed with.
        return qs.filter(held_by_place_named(value))


# A designation list shows national designations unless asked for provincial ones or both: as every
# count does (`DesignationQuerySet.counted`), so a list's total is never of both together by default.
ALL_LEVELS = "all"
LEVEL_CHOICES = [*ProgrammeLevel.choices, (ALL_LEVELS, _("national and provincial"))]


class DesignationFilterSet(RecordFilterSet):
    batch_year = YearsFilter(field_name="batch__year", label=_("batch year(s)"))
    level = django_filters.ChoiceFilter(
        choices=LEVEL_CHOICES,
        method="filter_level",
        label=_("level: national (the default), provincial, or all (national and provincial: never counted together)"),
    )
    kind = django_filters.ChoiceFilter(choices=DesignationKind.choices, label=_("kind: new, repeat or upgraded"))
    outcome = django_filters.ChoiceFilter(
        choices=Outcome.choices,
        method="filter_outcome",
        label=_("outcome: assessed, passed, rectify, failed, accepted, withdrawn or not_recorded"),
    )
    ordering = OrderingFilter(fields=(("batch__year", "batch_year"), ("unit__key", "code"), ("updated_at", "updated_at")))
    updated_since = UpdatedSinceFilter(
        method="filter_updated_since",
        label=_("updated since: the designation, or a lifecycle record of it (added, changed or removed)"),
    )

    class Meta:
        model = Designation
        fields: list[str] = []

    def filter_updated_since(self, qs: QuerySet, name: str, value: datetime | None) -> QuerySet:
        """A designation as the API shows it carries its lifecycle records and outcomes: a change to
        one (or its removal, kept in the history) is a change of the designation a partner must see."""
        if value is None:
            return qs
        changed = LifecycleRecord.history.filter(history_date__gte=value).values("designation_id")
        return qs.filter(Q(updated_at__gte=value) | Q(pk__in=changed))

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if not self.form.cleaned_data.get("level"):
            queryset = queryset.filter(batch__level=ProgrammeLevel.NATIONAL)
        return super().filter_queryset(queryset)

    def filter_level(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs if value == ALL_LEVELS else qs.filter(batch__level=value)

    def filter_outcome(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.outcome(value) if value else qs  # type: ignore[attr-defined]  # an annotation the stubs cannot see


class FundingAllocationFilterSet(RecordFilterSet):
    fiscal_year = YearsFilter(field_name="fiscal_year", label=_("fiscal year(s)"))
    level = django_filters.ChoiceFilter(choices=FundingLevel.choices)
    ordering = OrderingFilter(fields=(("fiscal_year", "fiscal_year"), ("amount", "amount"), ("unit__key", "code")))

    class Meta:
        model = FundingAllocation
        fields: list[str] = []


class PovertyStatusFilterSet(RecordFilterSet):
    exit_year = YearsFilter(field_name="exit_year", label=_("exit year(s)"))
    region = django_filters.ChoiceFilter(choices=Region.choices)
    key_county = BooleanFilter(field_name="is_key_county_2012")
    contiguous_area_county = BooleanFilter(field_name="is_contiguous_area_county")
    ordering = OrderingFilter(fields=(("unit__key", "code"), ("exit_year", "exit_year")))

    class Meta:
        model = PovertyStatus
        fields: list[str] = []
