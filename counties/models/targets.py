"""Targets and results: the indicators a demonstration county reports, its values per year, the
assessments of its designations, and the pairings that make the third "full coverage" countable.

Imported at the end of `counties.models`, so these are models of the `counties` app. Kept in their
own module because they are a feature of their own: the computations on them live in
`counties.reads.statistics.targets`, their import in `counties.writes.imports.targets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _

from counties.models.base import (
    Provenance,
    RegistryHistory,
    TimeStamped,
    _choices_check,
    _year_check,
    no_control_characters,
    provenance_constraints,
)
from counties.models.programme import Designation, FundingAllocation, PovertyStatus
from counties.models.units import Unit, code_not_in_use_error, lines_apart, other_place_link, same_line

# Growth needs the year before designation as its base, so values reach back before 2014.
FIRST_VALUE_YEAR = 2000


class TargetRule(models.TextChoices):
    """What a demonstration county was asked to achieve on an indicator (2014 notice)."""

    NONE = "none", _("no target")
    GROWTH_AT_LEAST = "growth_at_least", _("grows at least the threshold a year")
    RISES = "rises", _("rises year on year")
    FALLS = "falls", _("falls year on year")


class NoticeRule(models.TextChoices):
    """What a later notice (2018, 2019) asked of the counties of the batches it covers."""

    AT_LEAST = "at_least", _("at least the threshold")
    AT_MOST = "at_most", _("at most the threshold")
    FASTER_THAN_NATIONAL = "faster_than_national", _("grows faster than the national rural online retail sales")


NOTICE_2018 = _("2018 notice of the Ministry of Finance, the Ministry of Commerce and the Poverty Alleviation Office (2018 batch)")
NOTICE_2019 = _("2019 notice of the Ministry of Finance, the Ministry of Commerce and the Poverty Alleviation Office (2019 batch)")
NOTICE_2019_URL = "http://m.cfbond.com/zclb/detail/20190509/1000200000022261557367703117631466_1.html"


@dataclass(frozen=True)
class NoticeTarget:
    """One target of the 2018 or 2019 notice, as the notice wrote it (DESIGN.md, "Targets and
    assessment"). Frozen here, as the notices are: a rule of a notice is not edited.

    The value judged is an indicator's latest value reported up to `by_year` (when `total`, the
    sum of the values reported from the batch year on; with a `denominator`, the ratio of the two
    indicators in the latest year both were reported, in percent). `faster_than_national` compares
    the county's growth from the year before its batch to its last year reported with the national
    rural series' over the same years.
    """

    code: str
    indicator: str
    rule: str
    threshold: Decimal | None
    batches: tuple[int, ...]
    label: Any
    source: Any
    source_url: str = ""
    denominator: str = ""
    total: bool = False
    by_year: int | None = None


NOTICE_TARGETS = (
    NoticeTarget(
        "funds_agri_upward_2018",
        "funds_agri_upward_share",
        NoticeRule.AT_LEAST,
        Decimal(50),
        (2018,),
        _("Central funds to selling farm products online: at least 50%"),
        NOTICE_2018,
    ),
    NoticeTarget(
        "funds_service_centre_2018",
        "funds_service_centre_share",
        NoticeRule.AT_MOST,
        Decimal(15),
        (2018,),
        _("Central funds to the county public service centre: at most 15%"),
        NOTICE_2018,
    ),
    NoticeTarget(
        "poor_village_coverage_2018",
        "poor_villages_covered",
        NoticeRule.AT_LEAST,
        Decimal(50),
        (2018,),
        _("E-commerce services in the registered poor villages: about 50% (judged as at least 50%)"),
        NOTICE_2018,
        denominator="poor_villages",
    ),
    NoticeTarget(
        "village_coverage_2018",
        "villages_covered",
        NoticeRule.AT_LEAST,
        Decimal(50),
        (2018,),
        _("E-commerce services in all administrative villages: about 50% (judged as at least 50%)"),
        NOTICE_2018,
        denominator="administrative_villages",
    ),
    NoticeTarget(
        "village_coverage_2019",
        "villages_covered",
        NoticeRule.AT_LEAST,
        Decimal(80),
        (2019,),
        _("E-commerce services in the administrative villages by the end of 2020: 80%"),
        NOTICE_2019,
        NOTICE_2019_URL,
        denominator="administrative_villages",
        by_year=2020,
    ),
    NoticeTarget(
        "people_trained_2019",
        "people_trained",
        NoticeRule.AT_LEAST,
        Decimal(3000),
        (2019,),
        _("At least 3,000 people trained per county (the trainings reported from the batch year on, added up)"),
        NOTICE_2019,
        NOTICE_2019_URL,
        total=True,
    ),
    NoticeTarget(
        "online_retail_faster_2019",
        "online_retail_sales",
        NoticeRule.FASTER_THAN_NATIONAL,
        None,
        (2019,),
        _("Online retail sales growing faster than the national rural online retail sales over the same years"),
        NOTICE_2019,
        NOTICE_2019_URL,
    ),
)


class Indicator(TimeStamped):
    """One entry of the indicator catalogue, editable in the admin."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100, validators=[no_control_characters])
    name_en = models.CharField(_("English name"), max_length=160, validators=[no_control_characters])
    unit_zh = models.CharField(
        _("unit (Chinese)"), max_length=20, help_text=_("e.g. 万元, %, 件, 个, 人次"), validators=[no_control_characters]
    )
    unit_en = models.CharField(
        _("unit (English)"), max_length=40, help_text=_("e.g. 10,000 yuan, %, parcels"), validators=[no_control_characters]
    )
    higher_is_better = models.BooleanField(_("higher is better"), default=True)
    rule = models.CharField(_("target rule"), max_length=20, choices=TargetRule.choices, default=TargetRule.NONE)
    rule_threshold_pct = models.DecimalField(
        _("threshold (% a year)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("For 'grows at least the threshold a year': the growth required, in percent (30 for the 2014 notice)."),
    )
    rule_source = models.TextField(_("source of the target"), blank=True, validators=[no_control_characters])
    position = models.PositiveSmallIntegerField(_("position"), default=100, help_text=_("Order on the pages (smallest first)."))
    notes = models.TextField(_("notes"), blank=True, validators=[no_control_characters])

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            _choices_check("rule", TargetRule, "indicator_rule_valid"),
            models.CheckConstraint(
                condition=~Q(rule=TargetRule.GROWTH_AT_LEAST) | Q(rule_threshold_pct__isnull=False),
                name="indicator_growth_rule_has_threshold",
                violation_error_message=_("A growth target needs its threshold."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"

    @property
    def has_target(self) -> bool:
        return self.rule != TargetRule.NONE


class IndicatorValue(Provenance, TimeStamped):
    """What a unit reported for an indicator in a year, recorded against the unit as it then was."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="indicator_values", verbose_name=_("unit"))
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values", verbose_name=_("indicator"))
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["unit__key", "indicator__position", "indicator__code", "year", "pk"]
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "indicator", "year"],
                name="indicator_value_once_a_year",
                violation_error_message=_("This unit already has a value of this indicator for this year."),
            ),
            _year_check("year", "indicator_value_year_plausible", low=FIRST_VALUE_YEAR),
            # Every indicator of the programme is a volume, count, share or cost.
            models.CheckConstraint(
                condition=Q(value__gte=0), name="indicator_value_non_negative", violation_error_message=_("The value must not be negative.")
            ),
            *provenance_constraints("indicator_value"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.indicator.code} {self.year}: {self.value}"

    def clean(self) -> None:
        # The rule of every door: a value names the unit by the code in use in its year.
        if self.unit_id is not None and self.year is not None:
            error = code_not_in_use_error(self.unit, self.year)
            if error:
                raise ValidationError({"unit": error})


class AssessmentResult(models.TextChoices):
    EXCELLENT = "excellent", _("excellent (优秀)")
    PASSED = "passed", _("passed (合格)")
    RECTIFY = "rectify", _("to be rectified (整改)")
    FAILED = "failed", _("failed (不合格)")
    PENDING = "pending", _("pending")


# Results that release funding conditional on the assessment (the 2015 batch's further 1.5 m yuan).
PASSING_RESULTS = (AssessmentResult.EXCELLENT, AssessmentResult.PASSED)


class Assessment(Provenance, TimeStamped):
    """The performance assessment (绩效评价) of one designation."""

    designation = models.ForeignKey(Designation, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("designation"))
    year = models.PositiveSmallIntegerField(_("assessment year"))
    date = models.DateField(_("date"), null=True, blank=True, help_text=_("The date of the result's document. Empty: not recorded."))
    result = models.CharField(_("result"), max_length=16, choices=AssessmentResult.choices, default=AssessmentResult.PENDING)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    grade = models.CharField(
        _("grade"),
        max_length=40,
        blank=True,
        validators=[no_control_characters],
        help_text=_("The grade as the province's scheme names it (e.g. 优秀, 良好, 合格). Empty: not recorded."),
    )
    document_number = models.CharField(_("document number"), max_length=100, blank=True, validators=[no_control_characters])
    document_url = models.URLField(_("document URL"), max_length=500, blank=True)
    conditional_funding = models.ForeignKey(
        FundingAllocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conditional_on",
        verbose_name=_("funding depending on the result"),
        help_text=_("Funding released only if the assessment passes (e.g. the 2015 batch's further 1.5 million yuan in 2016)."),
    )

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["designation__batch__year", "designation__unit__key", "year", "pk"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["designation", "year"],
                name="assessment_once_a_year",
                violation_error_message=_("This designation already has an assessment in this year."),
            ),
            _choices_check("result", AssessmentResult, "assessment_result_valid"),
            _year_check("year", "assessment_year_plausible"),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__gte=0), name="assessment_score_non_negative"),
            models.CheckConstraint(
                condition=Q(date__isnull=True) | Q(year=ExtractYear("date")),
                name="assessment_date_in_year",
                violation_error_message=_("The date must lie in the assessment year."),
            ),
            # A pending assessment has no score yet.
            models.CheckConstraint(
                condition=~Q(result=AssessmentResult.PENDING) | Q(score__isnull=True),
                name="assessment_pending_has_no_score",
                violation_error_message=_("A pending assessment has no score."),
            ),
            *provenance_constraints("assessment"),
        ]

    def __str__(self) -> str:
        return f"{self.designation} — {self.year} {self.get_result_display()}"

    @property
    def unit(self) -> Unit:
        """The designated unit: the provincial rule reads a record's province through it."""
        return self.designation.unit

    @property
    def releases_funding(self) -> bool | None:
        """Whether the conditional funding is released: None while pending or when none depends on it."""
        if self.conditional_funding_id is None or self.result == AssessmentResult.PENDING:
            return None
        return self.result in PASSING_RESULTS

    def clean(self) -> None:
        super().clean()
        if self.designation_id and self.year and self.year < self.designation.batch.year:
            raise ValidationError({"year": _("The assessment cannot come before the designation's batch year.")})
        if self.conditional_funding_id and self.designation_id and (funding := self.conditional_funding) is not None:
            if funding.designation_id not in (None, self.designation_id):
                raise ValidationError({"conditional_funding": _("This funding belongs to another designation.")})
            if lines_apart([(self.designation.unit_id, funding.unit_id)]):
                raise ValidationError({"conditional_funding": other_place_link(self, self.designation.unit, funding, funding.unit)})


class PartnerKind(models.TextChoices):
    PLATFORM = "platform", _("e-commerce platform")
    ENTERPRISE = "enterprise", _("enterprise")
    COUNTY = "county", _("stronger e-commerce county")


class Pairing(Provenance, TimeStamped):
    """A platform, enterprise or stronger county paired with a poverty county (from 2018 a priority)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="pairings", verbose_name=_("poverty county"))
    partner_name = models.CharField(_("partner"), max_length=200, validators=[no_control_characters])
    partner_kind = models.CharField(_("partner kind"), max_length=16, choices=PartnerKind.choices)
    partner_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pairings_as_partner",
        verbose_name=_("partner county"),
        help_text=_("When the partner is a county: its unit."),
    )
    start_year = models.PositiveSmallIntegerField(_("from year"))
    end_year = models.PositiveSmallIntegerField(_("to year"), null=True, blank=True, help_text=_("Empty while the pairing lasts."))

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["unit__key", "start_year", "partner_name", "pk"]
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        constraints = [
            models.UniqueConstraint(fields=["unit", "partner_name", "start_year"], name="pairing_unique"),
            _choices_check("partner_kind", PartnerKind, "pairing_partner_kind_valid"),
            _year_check("start_year", "pairing_start_year_plausible"),
            _year_check("end_year", "pairing_end_year_plausible", nullable=True),
            models.CheckConstraint(
                condition=Q(end_year__isnull=True) | Q(end_year__gte=F("start_year")),
                name="pairing_years_ordered",
                violation_error_message=_("The pairing cannot end before it starts."),
            ),
            models.CheckConstraint(condition=~Q(partner_unit=F("unit")), name="pairing_not_self"),
            *provenance_constraints("pairing"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} ← {self.partner_name} ({self.start_year})"

    def clean(self) -> None:
        super().clean()
        if self.partner_kind == PartnerKind.COUNTY and self.partner_unit_id is None:
            raise ValidationError({"partner_unit": _("A county partner needs its unit.")})
        if self.unit_id and not is_poverty_place(self.unit_id):
            raise ValidationError({"unit": _("Pairings are recorded for national poverty counties; this unit is not one.")})


def is_poverty_place(unit_id: int) -> bool:
    """Whether the unit is the same place as one of the 832 (itself, a unit it became or one that became it)."""
    return PovertyStatus.objects.filter(same_line(unit_id, "unit__")).exists()
