"""The programme's records: poverty status among the 832, batches, designations, funding and the
published figures, each with its provenance."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from counties.models.base import (
    EXIT_YEAR_MESSAGE,
    FIRST_EXIT_YEAR,
    LAST_EXIT_YEAR,
    Provenance,
    Region,
    RegistryHistory,
    SourceKind,
    TimeStamped,
    _choices_check,
    _year_check,
    exit_year_in_range,
    no_control_characters,
    provenance_constraints,
    sources_separated,
)
from counties.models.units import Province, Unit, UnitLineage, code_not_in_use_error, lines_apart, other_place_link, same_line


class PovertyStatus(Provenance, TimeStamped):
    """Membership of the 832 national poverty-relief counties (国家级贫困县).

    Held on the unit as it was listed (the end-2014 code, or a registry key for the Qinghai 行委).
    The 2012 category flags are three-valued: True, False, or None for "not determined".
    """

    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="poverty_status", verbose_name=_("unit"))
    region = models.CharField(_("region"), max_length=8, choices=Region.choices)
    exit_year = models.PositiveSmallIntegerField(
        _("exit year"),
        null=True,
        blank=True,
        help_text=_("Year the county exited poverty (脱贫摘帽)."),
        validators=[exit_year_in_range],
    )
    exit_year_note = models.TextField(_("exit year note"), blank=True, validators=[no_control_characters])
    # As Batch.source_note_zh: what a Chinese page shows; empty, it shows the English note, marked as such.
    exit_year_note_zh = models.TextField(
        _("exit year note (Chinese)"),
        blank=True,
        validators=[no_control_characters],
        help_text=_("The exit year note in Chinese, for the Chinese pages."),
    )
    is_key_county_2012 = models.BooleanField(
        _("key county (2012 list)"), null=True, blank=True, help_text=_("国家扶贫开发工作重点县. Empty: not determined.")
    )
    is_contiguous_area_county = models.BooleanField(
        _("contiguous-area county"), null=True, blank=True, help_text=_("集中连片特殊困难地区县. Empty: not determined.")
    )
    contiguous_area = models.CharField(
        _("contiguous area"),
        max_length=64,
        blank=True,
        help_text=_("Name of the area; empty when not determined."),
        validators=[no_control_characters],
    )
    category_source = models.TextField(_("category source"), blank=True, validators=[no_control_characters])
    listed_name = models.CharField(_("name as listed"), max_length=64, validators=[no_control_characters])

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["unit__key"]
        verbose_name = _("poverty-county status")
        verbose_name_plural = _("poverty-county statuses")
        constraints = [
            _choices_check("region", Region, "poverty_region_valid"),
            _year_check(
                "exit_year",
                "poverty_exit_year_plausible",
                low=FIRST_EXIT_YEAR,
                high=LAST_EXIT_YEAR,
                nullable=True,
                message=EXIT_YEAR_MESSAGE,
            ),
            # Spelled out with IS NOT NULL: a CHECK that evaluates to NULL passes.
            models.CheckConstraint(
                condition=Q(contiguous_area="") | (Q(is_contiguous_area_county__isnull=False) & Q(is_contiguous_area_county=True)),
                name="poverty_area_needs_flag",
            ),
            *provenance_constraints("poverty"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} — {self.get_region_display()}"

    def clean(self) -> None:
        if self.unit_id is not None:
            refusal = poverty_county_refusal(self.unit_id, self.pk)
            if refusal:
                raise ValidationError({"unit": refusal})


class ListedPovertyCounty(TimeStamped):
    """One of the 832 as the reference list names it (data/poverty_counties_832.csv, loaded by
    load_reference_data): the unit it was listed under and the name it was listed with.

    The list the poverty statuses are held to: a status may be given only to a place named here,
    under the code listed or any other code of the same place (an earlier or later one, through the
    lineage). Staff edit the statuses, not this list; the loader keeps it."""

    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="poverty_listing", verbose_name=_("unit"))
    listed_name = models.CharField(_("name as listed"), max_length=64, validators=[no_control_characters])

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["unit__key"]
        verbose_name = _("poverty county in the list of 832")
        verbose_name_plural = _("the list of 832 poverty counties")

    def __str__(self) -> str:
        return f"{self.listed_name} ({self.unit.key})"


# There are exactly 832 poverty counties (DESIGN.md), named in the reference list: every statistic
# counts them as listed. The rule is checked per record (a field's message, before writing) and over
# the set (after a bulk write): the two functions below, with one set of messages.
POVERTY_COUNTIES = 832


def poverty_county_refusal(unit_id: int, pk: int | None = None) -> str | None:
    """Why the unit `unit_id` cannot hold a poverty status (a new one, or the record `pk` moved to
    it), or None. A place is one poverty county: a status on a unit that became, or was become by,
    a unit already holding one (宣化区 130705 is 宣化县 130721, listed under its 2014 code) would
    count that place twice, and the 832 would be 833. Units merged into one (丙县 and 丁县 into
    丙市) are two poverty counties all the same: neither became the other. And there are 832."""
    others = PovertyStatus.objects.exclude(pk=pk) if pk is not None else PovertyStatus.objects.all()
    if others.filter(unit_id=unit_id).exists():
        return None  # the unit holds one already: the field's own uniqueness message says so
    if not ListedPovertyCounty.objects.filter(same_line(unit_id, "unit__")).exists():
        return NOT_IN_THE_LIST % {"unit": Unit.objects.get(pk=unit_id), "total": POVERTY_COUNTIES}
    held = others.filter(same_line(unit_id, "unit__")).select_related("unit").first()  # not the unit's own: none, as just seen
    if held is not None:
        return SAME_PLACE_LISTED % {"unit": Unit.objects.get(pk=unit_id), "other": held.unit}
    if pk is None and others.count() >= POVERTY_COUNTIES:
        return ALL_POVERTY_COUNTIES_LISTED % {"total": POVERTY_COUNTIES}
    return None


def poverty_counties_problem() -> str | None:
    """The same rule over every stored status, or None: what a write of several statuses together
    (an import) checks once they are written, as its rows cannot see each other before."""
    total = PovertyStatus.objects.count()
    if total > POVERTY_COUNTIES:
        return ALL_POVERTY_COUNTIES_LISTED % {"total": POVERTY_COUNTIES}
    # A status on no line of a listed unit: the listed units and every unit they became or that became them.
    listed = ListedPovertyCounty.objects.values("unit")
    stray = (
        PovertyStatus.objects.exclude(unit__in=UnitLineage.objects.filter(ancestor__in=listed).values("descendant"))
        .exclude(unit__in=UnitLineage.objects.filter(descendant__in=listed).values("ancestor"))
        .select_related("unit")
        .order_by("unit__key")
        .first()
    )
    if stray is not None:
        return NOT_IN_THE_LIST % {"unit": stray.unit, "total": POVERTY_COUNTIES}
    twice = (
        UnitLineage.objects.filter(depth__gt=0, ancestor__poverty_status__isnull=False, descendant__poverty_status__isnull=False)
        .select_related("ancestor", "descendant")
        .order_by("descendant__key", "ancestor__key")
        .first()
    )
    return None if twice is None else SAME_PLACE_LISTED % {"unit": twice.descendant, "other": twice.ancestor}


NOT_IN_THE_LIST = _(
    "%(unit)s is not one of the %(total)s poverty counties: a poverty status can be given only to a place named in the "
    "reference list of %(total)s (under the code listed, or an earlier or later code of the same place)."
)
SAME_PLACE_LISTED = _(
    "%(unit)s is the same place as %(other)s, which is already listed as a poverty county: a place is counted once. "
    "Correct that record instead."
)
ALL_POVERTY_COUNTIES_LISTED = _(
    "All %(total)s poverty counties are listed, and there are exactly %(total)s: correct or remove one before adding another."
)


class ProgrammeLevel(models.TextChoices):
    """Who named a batch: the ministries (national) or a province (its own demonstration counties,
    with its own funds: Sichuan 2016, 20 counties at 5 million yuan each). The two are never counted
    together: every count of the registry is of national designations (`DesignationQuerySet.counted`)."""

    NATIONAL = "national", _("national")
    PROVINCIAL = "provincial", _("provincial")


class Batch(Provenance, TimeStamped):
    """One batch of demonstration counties (a year may have more than one, e.g. 2021's first).

    A national batch is named by its year and sequence; a provincial one by its province as well,
    so Sichuan's 2016 batch and the national 2016 batch are both "2016, first"."""

    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(_("level"), max_length=16, choices=ProgrammeLevel.choices, default=ProgrammeLevel.NATIONAL)
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="provincial_batches",
        verbose_name=_("province"),
        help_text=_("A provincial batch: the province that named it (its notice is the batch's document). Empty for a national batch."),
    )
    sequence = models.PositiveSmallIntegerField(_("batch of the year"), default=1)
    title_zh = models.CharField(_("Chinese title"), max_length=200, validators=[no_control_characters])
    title_en = models.CharField(_("English title"), max_length=200, validators=[no_control_characters])
    document_number = models.CharField(_("document number"), max_length=100, blank=True, validators=[no_control_characters])
    document_date = models.DateField(_("document date"), null=True, blank=True)
    document_url = models.URLField(_("document URL"), max_length=500, blank=True)
    planned_size = models.PositiveIntegerField(_("published size"), null=True, blank=True)
    provinces_count = models.PositiveSmallIntegerField(_("provinces in batch"), null=True, blank=True)
    central_funds_total = models.DecimalField(_("central funds, total (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True)
    central_funds_per_county = models.DecimalField(
        _("central funds per county (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    min_poverty_share_pct = models.DecimalField(
        _("minimum poverty-county share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The rule that applied to this batch, if any (from 2016: at least half of the batch)."),
    )
    published_poverty_counties = models.PositiveIntegerField(_("published poverty counties in batch"), null=True, blank=True)
    published_old_base_counties = models.PositiveIntegerField(_("published old revolutionary base counties"), null=True, blank=True)
    published_poverty_share_pct = models.DecimalField(
        _("published poverty share (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    # The note a Chinese page shows beside the source; `source_note` is the English one (and the
    # one staff and the loaders write first). Empty: Chinese pages show the English note, marked as such.
    source_note_zh = models.TextField(
        _("source note (Chinese)"),
        blank=True,
        validators=[no_control_characters],
        help_text=_("The source note in Chinese, for the Chinese pages."),
    )
    roster_complete = models.BooleanField(
        _("roster complete"),
        default=False,
        help_text=_("Whether every designation of this batch is recorded from a real source."),
    )
    # The list of the batch's counties as published (a ministry page, a province's republication):
    # a page of its own, apart from the notice that launched the year's work.
    list_url = models.URLField(_("list of counties, URL"), max_length=500, blank=True)
    list_date = models.DateField(_("list of counties, date"), null=True, blank=True)
    # The notice that launched the batch (its number, date and link are the document_* fields
    # above). Each is empty where no source states it: the pages then say "not recorded".
    notice_title = models.CharField(_("notice title"), max_length=300, blank=True, validators=[no_control_characters])
    notice_issuers = models.CharField(
        _("issuing bodies"),
        max_length=300,
        blank=True,
        validators=[no_control_characters],
        help_text=_("The ministries or offices that issued the notice, as the source names them."),
    )
    notice_source = models.TextField(
        _("notice source"),
        blank=True,
        validators=[no_control_characters, sources_separated],
        help_text=_("Where the notice's title, number and date were read; several separated by ' ; '."),
    )
    notice_source_kind = models.CharField(
        _("notice source kind"), max_length=16, blank=True, choices=SourceKind.choices, help_text=_("Empty: no notice recorded.")
    )

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["year", "sequence"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "sequence"],
                condition=Q(level=ProgrammeLevel.NATIONAL),
                name="batch_unique_year_sequence",
                violation_error_message=_("There is already a national batch of this year and sequence."),
            ),
            models.UniqueConstraint(
                fields=["province", "year", "sequence"],
                condition=Q(level=ProgrammeLevel.PROVINCIAL),
                name="provincial_batch_unique",
                violation_error_message=_("This province already has a batch of this year and sequence."),
            ),
            _choices_check("level", ProgrammeLevel, "batch_level_valid"),
            # A provincial batch names its province; a national one none.
            models.CheckConstraint(
                condition=Q(level=ProgrammeLevel.NATIONAL, province__isnull=True)
                | Q(level=ProgrammeLevel.PROVINCIAL, province__isnull=False),
                name="batch_province_iff_provincial",
                violation_error_message=_("A provincial batch names its province, and a national batch none."),
            ),
            _year_check("year", "batch_year_plausible"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="batch_sequence_positive"),
            models.CheckConstraint(
                condition=Q(central_funds_total__isnull=True) | Q(central_funds_total__gte=0),
                name="batch_funds_total_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(central_funds_per_county__isnull=True) | Q(central_funds_per_county__gte=0),
                name="batch_funds_per_county_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(min_poverty_share_pct__isnull=True) | Q(min_poverty_share_pct__gte=0, min_poverty_share_pct__lte=100),
                name="batch_min_share_is_percentage",
            ),
            models.CheckConstraint(
                condition=Q(published_poverty_share_pct__isnull=True)
                | Q(published_poverty_share_pct__gte=0, published_poverty_share_pct__lte=100),
                name="batch_published_share_is_percentage",
            ),
            *provenance_constraints("batch"),
        ]

    def __str__(self) -> str:
        return self.title_zh

    @property
    def derived_funds_per_county(self) -> Decimal | None:
        """Central funds per county worked out by the registry: the published total over the
        published size, to the fen, where no per-county amount is published (2016: 3.6 bn ÷ 240).
        The one home of "published or derived" for this figure: `central_funds_per_county` holds
        only a published amount, and every door shows this one apart, marked as derived."""
        if self.central_funds_per_county is not None or self.central_funds_total is None or not self.planned_size:
            return None
        return (self.central_funds_total / self.planned_size).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def is_provincial(self) -> bool:
        return self.level == ProgrammeLevel.PROVINCIAL

    def clean(self) -> None:
        super().clean()
        if self.level == ProgrammeLevel.PROVINCIAL and self.province_id is None:
            raise ValidationError({"province": _("A provincial batch names its province.")})
        if self.level == ProgrammeLevel.NATIONAL and self.province_id is not None:
            raise ValidationError({"province": _("A national batch names no province.")})


class DesignationKind(models.TextChoices):
    """Whether a batch entry is a county's first designation or a selection again: from 2019 the
    upgraded or typical counties (升级版 / 典型县). Every one is a batch entry; only a place's first
    counts it as a new demonstration county (the place rule counts each place once)."""

    NEW = "new", _("new")
    REPEAT = "repeat", _("repeat")
    UPGRADED = "upgraded", _("upgraded or typical county")


# Upgraded (升级版) and typical (典型县) counties were first selected by the 2019 notice.
FIRST_UPGRADE_YEAR = 2019


def designation_kind_problem(kind: str, year: int, selected_before: bool) -> str | None:
    """Why a designation's kind contradicts the record (None if it does not): a place selected in
    an earlier batch is selected again (repeat or upgraded), a first selection is new, and upgraded
    or typical counties exist from 2019."""
    if kind == DesignationKind.NEW and selected_before:
        return str(_("This place was designated in an earlier batch: a selection again is “repeat” or “upgraded or typical county”."))
    if kind != DesignationKind.NEW and not selected_before:
        return str(_("This place has no designation in an earlier batch: its first selection is “new”."))
    if kind == DesignationKind.UPGRADED and year < FIRST_UPGRADE_YEAR:
        return str(_("Upgraded or typical counties were selected from 2019 on."))
    return None


class LifecycleStep(models.TextChoices):
    """A step of a designation's path after its notice (the assessments are `Assessment` records)."""

    ACCEPTED = "accepted", _("acceptance")
    WITHDRAWN = "withdrawn", _("withdrawal")
    FUNDS = "funds", _("central funds withheld or recovered")


class Outcome(models.TextChoices):
    """Where a designation's path has got to, as the batch page, the statistics and the API count and
    filter it. Worked out from its records (`DesignationQuerySet.with_outcome`), never stored: the
    lifecycle records are the one home of "accepted" and "withdrawn", the assessments of the rest.
    A designation counts under each that applies (an assessed one is also passed, rectify or failed)."""

    ASSESSED = "assessed", _("assessed")
    PASSED = "passed", _("passed")
    RECTIFY = "rectify", _("to rectify")
    FAILED = "failed", _("failed")
    ACCEPTED = "accepted", _("accepted")
    WITHDRAWN = "withdrawn", _("withdrawn")
    NOT_RECORDED = "not_recorded", _("not recorded")


# The latest assessment's result, as the outcome it gives (a pending one gives none).
RESULT_OUTCOME = {"excellent": Outcome.PASSED, "passed": Outcome.PASSED, "rectify": Outcome.RECTIFY, "failed": Outcome.FAILED}


def counts_at_end_of(as_of: int, batch_year: int, withdrawn_in: int | None) -> bool:
    """Whether a national designation of `batch_year`, withdrawn in `withdrawn_in` (None: never;
    one withdrawn in a year not recorded is not counted at all), counts at the end of `as_of`: from
    its batch year to the year before its withdrawal. A designation withdrawn in 2019 counts at
    end-2018, not at end-2019. The same rule as `DesignationQuerySet.counted`, for rows already loaded."""
    return batch_year <= as_of and (withdrawn_in is None or withdrawn_in > as_of)


class DesignationQuerySet(models.QuerySet["Designation"]):
    def counted(self, as_of: int | None = None) -> DesignationQuerySet:
        """The designations every count of the registry counts: the one rule, read by the statistics,
        selectors, facets, the home page, the API and the exports.

        National designations only (a provincial demonstration county never counts toward the national
        figures) that are `standing`: with `as_of`, those of batches of that year or earlier not
        withdrawn by its end (`counts_at_end_of`); without, those not withdrawn today. Repeat and
        upgraded selections are batch entries; the place rule counts their county once."""
        return self.filter(batch__level=ProgrammeLevel.NATIONAL).standing(as_of)

    def standing(self, as_of: int | None = None) -> DesignationQuerySet:
        """Designations not withdrawn (by the end of `as_of`, among batches of that year or earlier;
        today when None). A withdrawal whose year is not recorded counts from the start. What a
        provincial batch's page lists; `counted` adds the national rule."""
        withdrawals = LifecycleRecord.objects.filter(designation=OuterRef("pk"), step=LifecycleStep.WITHDRAWN)
        if as_of is None:
            return self.exclude(Exists(withdrawals))
        return self.filter(batch__year__lte=as_of).exclude(Exists(withdrawals.filter(Q(year__isnull=True) | Q(year__lte=as_of))))

    def with_withdrawal_year(self) -> DesignationQuerySet:
        """National designations not withdrawn in a year unrecorded, with `withdrawn_in`: the year
        of their withdrawal, or None. What the statistics load once to answer every year with
        `counts_at_end_of`."""
        withdrawals = LifecycleRecord.objects.filter(designation=OuterRef("pk"), step=LifecycleStep.WITHDRAWN)
        return (
            self.filter(batch__level=ProgrammeLevel.NATIONAL)
            .exclude(Exists(withdrawals.filter(year__isnull=True)))
            .annotate(withdrawn_in=Subquery(withdrawals.values("year")[:1]))
        )

    def with_outcome(self) -> DesignationQuerySet:
        """Each designation with what its outcome is worked out from: `latest_result` (its latest
        assessment's result that is not pending), `is_accepted` and `is_withdrawn`."""
        assessment = apps.get_model("counties", "Assessment")
        latest = (
            assessment.objects.filter(designation=OuterRef("pk")).exclude(result="pending").order_by("-year", "-pk").values("result")[:1]
        )
        steps = LifecycleRecord.objects.filter(designation=OuterRef("pk"))
        return self.annotate(
            latest_result=Subquery(latest),
            is_accepted=Exists(steps.filter(step=LifecycleStep.ACCEPTED)),
            is_withdrawn=Exists(steps.filter(step=LifecycleStep.WITHDRAWN)),
        )

    def outcome(self, outcome: str) -> DesignationQuerySet:
        """Those whose path has reached `outcome` (an `Outcome` value), as `outcomes_of` tells it."""
        rows = self if "latest_result" in self.query.annotations else self.with_outcome()
        if outcome == Outcome.ASSESSED:
            return rows.filter(latest_result__isnull=False)  # type: ignore[misc]  # an annotation the stubs cannot see
        if outcome in (Outcome.PASSED, Outcome.RECTIFY, Outcome.FAILED):
            return rows.filter(latest_result__in=[r for r, o in RESULT_OUTCOME.items() if o == outcome])  # type: ignore[misc]  # an annotation the stubs cannot see
        if outcome == Outcome.ACCEPTED:
            return rows.filter(is_accepted=True)  # type: ignore[misc]  # an annotation the stubs cannot see
        if outcome == Outcome.WITHDRAWN:
            return rows.filter(is_withdrawn=True)  # type: ignore[misc]  # an annotation the stubs cannot see
        if outcome == Outcome.NOT_RECORDED:
            return rows.filter(latest_result__isnull=True, is_accepted=False, is_withdrawn=False)  # type: ignore[misc]  # an annotation the stubs cannot see
        raise ValueError(outcome)


def outcomes_of(latest_result: str | None, is_accepted: bool, is_withdrawn: bool) -> list[str]:
    """The outcomes one designation counts under, from what `with_outcome` gives: the same rule as
    `DesignationQuerySet.outcome`, for rows already loaded (a test holds the two together)."""
    found = []
    if latest_result in RESULT_OUTCOME:
        found += [Outcome.ASSESSED, RESULT_OUTCOME[latest_result]]
    if is_accepted:
        found.append(Outcome.ACCEPTED)
    if is_withdrawn:
        found.append(Outcome.WITHDRAWN)
    return [str(o) for o in found] or [str(Outcome.NOT_RECORDED)]


class Designation(Provenance, TimeStamped):
    """A unit designated as a demonstration county in a batch: one batch entry."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="designations", verbose_name=_("unit"))
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="designations", verbose_name=_("batch"))
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=DesignationKind.choices,
        default=DesignationKind.NEW,
        help_text=_("New, a repeat selection, or an upgraded or typical county (升级版 / 典型县): a batch entry, not a new county."),
    )
    is_old_revolutionary_base = models.BooleanField(
        _("old revolutionary base county"),
        null=True,
        blank=True,
        help_text=_("Selected as an old revolutionary base county. Empty: not recorded."),
    )
    name_as_reported = models.CharField(_("name as reported"), max_length=100, blank=True, validators=[no_control_characters])

    objects = DesignationQuerySet.as_manager()
    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["batch__year", "batch__sequence", "unit__key", "pk"]
        verbose_name = _("designation")
        verbose_name_plural = _("designations")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "batch"],
                name="designation_once_per_batch",
                violation_error_message=_("This unit is already designated in this batch."),
            ),
            _choices_check("kind", DesignationKind, "designation_kind_valid"),
            *provenance_constraints("designation"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} — {self.batch}"

    def clean(self) -> None:
        if self.unit_id is not None and self.batch_id is not None:
            error = code_not_in_use_error(self.unit, self.batch.year)
            if error:
                raise ValidationError({"unit": error})
            if self.batch.is_provincial and self.unit.province_id != self.batch.province_id:
                raise ValidationError({"unit": _("A provincial batch designates counties of its own province only.")})


class LifecycleRecord(Provenance, TimeStamped):
    """One step of a designation's path after its notice: its acceptance (验收), its withdrawal (退出)
    or central funds withheld or recovered, each with its date, document and source. The one home
    of whether a designation was accepted or withdrawn: no status field repeats it.

    The year is what the counts read (a designation withdrawn in 2019 counts at end-2018, not at
    end-2019); the date, when known, lies in that year. A withdrawal whose year is not recorded is
    counted as withdrawn from the start."""

    designation = models.ForeignKey(Designation, on_delete=models.PROTECT, related_name="lifecycle", verbose_name=_("designation"))
    step = models.CharField(_("step"), max_length=16, choices=LifecycleStep.choices)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True, help_text=_("Empty: not recorded."))
    date = models.DateField(_("date"), null=True, blank=True, help_text=_("Empty: not recorded. In the year given."))
    document_number = models.CharField(_("document number"), max_length=100, blank=True, validators=[no_control_characters])
    document_url = models.URLField(_("document URL"), max_length=500, blank=True)
    reason = models.TextField(
        _("reason"),
        blank=True,
        validators=[no_control_characters],
        help_text=_("Why (required for a withdrawal), as the document gives it."),
    )
    funds_withheld = models.DecimalField(
        _("central funds withheld (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True, help_text=_("Empty: not recorded.")
    )
    funds_recovered = models.DecimalField(
        _("central funds recovered (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True, help_text=_("Empty: not recorded.")
    )

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["designation_id", F("year").asc(nulls_last=True), F("date").asc(nulls_last=True), "pk"]
        verbose_name = _("lifecycle record")
        verbose_name_plural = _("lifecycle records")
        constraints = [
            _choices_check("step", LifecycleStep, "lifecycle_step_valid"),
            _year_check("year", "lifecycle_year_plausible", nullable=True),
            models.CheckConstraint(
                # Spelled out with IS NOT NULL: a CHECK that evaluates to NULL passes.
                condition=Q(date__isnull=True) | (Q(year__isnull=False) & Q(year=ExtractYear("date"))),
                name="lifecycle_date_in_year",
                violation_error_message=_("The date must lie in the year given."),
            ),
            models.UniqueConstraint(
                fields=["designation"],
                condition=Q(step=LifecycleStep.ACCEPTED),
                name="lifecycle_accepted_once",
                violation_error_message=_("This designation's acceptance is already recorded."),
            ),
            models.UniqueConstraint(
                fields=["designation"],
                condition=Q(step=LifecycleStep.WITHDRAWN),
                name="lifecycle_withdrawn_once",
                violation_error_message=_("This designation's withdrawal is already recorded."),
            ),
            models.CheckConstraint(
                condition=~Q(step=LifecycleStep.WITHDRAWN) | ~Q(reason=""),
                name="lifecycle_withdrawal_has_reason",
                violation_error_message=_("A withdrawal needs its reason."),
            ),
            models.CheckConstraint(
                condition=~Q(step=LifecycleStep.FUNDS) | Q(funds_withheld__isnull=False) | Q(funds_recovered__isnull=False),
                name="lifecycle_funds_have_amount",
                violation_error_message=_("Funds withheld or recovered need an amount."),
            ),
            models.CheckConstraint(
                condition=(Q(funds_withheld__isnull=True) | Q(funds_withheld__gte=0))
                & (Q(funds_recovered__isnull=True) | Q(funds_recovered__gte=0)),
                name="lifecycle_funds_non_negative",
                violation_error_message=_("The amount must not be negative."),
            ),
            *provenance_constraints("lifecycle"),
        ]

    def __str__(self) -> str:
        return f"{self.designation} — {self.get_step_display()} {self.year or '?'}"

    @property
    def unit(self) -> Unit:
        """The designated unit: the provincial rule reads a record's province through it."""
        return self.designation.unit

    def clean(self) -> None:
        super().clean()
        if self.date is not None and self.year is None:
            self.year = self.date.year
        if self.designation_id and self.year is not None and self.year < self.designation.batch.year:
            raise ValidationError({"year": _("This step cannot come before the designation's batch year.")})
        if self.step == LifecycleStep.WITHDRAWN and not self.reason.strip():
            raise ValidationError({"reason": _("A withdrawal needs its reason.")})


class FundingLevel(models.TextChoices):
    # The level of government that pays (中央/省级/县级), not a region or a unit type.
    CENTRAL = "central", pgettext_lazy("funding level", "central")
    PROVINCIAL = "provincial", pgettext_lazy("funding level", "provincial")
    COUNTY = "county", pgettext_lazy("funding level", "county")


class FundingAllocation(Provenance, TimeStamped):
    """Money allocated to a unit, in yuan (a Decimal, never a float)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="funding", verbose_name=_("unit"))
    designation = models.ForeignKey(
        Designation, on_delete=models.PROTECT, null=True, blank=True, related_name="funding", verbose_name=_("designation")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    level = models.CharField(_("level"), max_length=16, choices=FundingLevel.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=16, decimal_places=2)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True, validators=[no_control_characters])
    document_number = models.CharField(_("document number"), max_length=100, blank=True, validators=[no_control_characters])
    document_url = models.URLField(_("document URL"), max_length=500, blank=True)

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["fiscal_year", "unit__key", "level", "pk"]
        verbose_name = _("funding allocation")
        verbose_name_plural = _("funding allocations")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="funding_amount_non_negative",
                violation_error_message=_("The amount must not be negative."),
            ),
            _year_check("fiscal_year", "funding_fiscal_year_plausible"),
            _choices_check("level", FundingLevel, "funding_level_valid"),
            *provenance_constraints("funding"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.fiscal_year} {self.get_level_display()}: {self.amount}"

    def clean(self) -> None:
        errors = {}
        if self.unit_id is not None and self.fiscal_year is not None:
            error = code_not_in_use_error(self.unit, self.fiscal_year)
            if error:
                errors["unit"] = error
        # An illustrative designation is replaced wholesale when official records of its batch and
        # province arrive; a real record tied to it would block that (or vanish with it).
        designation = self.designation if self.designation_id is not None else None
        if designation is not None and self.unit_id is not None and lines_apart([(self.unit_id, designation.unit_id)]):
            errors["designation"] = other_place_link(self, self.unit, designation, designation.unit)
        elif self.source_kind != SourceKind.ILLUSTRATIVE and designation is not None and designation.is_illustrative:
            errors["designation"] = _("%(designation)s is illustrative; a funding record of kind %(kind)s cannot point at it") % {
                "designation": self.designation,
                "kind": self.get_source_kind_display(),
            }
        if errors:
            raise ValidationError(errors)


class ProgrammeFact(Provenance, TimeStamped):
    """A published programme-level figure (batch sizes, coverage, funding, retail), with its source."""

    fact_id = models.SlugField(_("identifier"), max_length=40, unique=True)
    period = models.CharField(_("period"), max_length=20, validators=[no_control_characters])
    metric = models.CharField(_("metric"), max_length=200, validators=[no_control_characters])
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=6, null=True, blank=True)
    value_text = models.CharField(_("value as published"), max_length=200, validators=[no_control_characters])
    value_unit = models.CharField(
        pgettext_lazy("unit of measurement", "unit"), max_length=40, blank=True, validators=[no_control_characters]
    )
    # As Batch.source_note_zh: what a Chinese page shows; empty, it shows the English note, marked as such.
    source_note_zh = models.TextField(
        _("source note (Chinese)"),
        blank=True,
        validators=[no_control_characters],
        help_text=_("The source note in Chinese, for the Chinese pages."),
    )
    derived = models.BooleanField(
        _("derived"),
        default=False,
        help_text=_(
            "Worked out (a ratio, a year inferred from totals) rather than stated by the source; shown as derived, "
            "never as a published figure."
        ),
    )

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["period", "fact_id"]
        verbose_name = _("programme figure")
        verbose_name_plural = _("programme figures")
        constraints = [*provenance_constraints("fact")]

    def __str__(self) -> str:
        return f"{self.period} {self.metric}: {self.value_text} {self.value_unit}".strip()


class PublishedProvinceCount(Provenance, TimeStamped):
    """How many counties a province received in a year's batch, as one source states it.

    Several sources may state a figure for the same province and year; they mostly agree, and
    where one counts only part of a province (Xinjiang without the Production and Construction
    Corps) the note says so.
    """

    year = models.PositiveSmallIntegerField(_("batch year"))
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="published_counts", verbose_name=_("province"))
    count = models.PositiveIntegerField(_("counties stated"))

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["year", "province__code"]
        verbose_name = _("published province count")
        verbose_name_plural = _("published province counts")
        constraints = [
            models.UniqueConstraint(fields=["year", "province", "source"], name="published_count_unique"),
            _year_check("year", "published_count_year_plausible"),
            *provenance_constraints("published_count"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.province.name_zh}: {self.count}"


# -- the text the loaders write: sources, notes and history reasons ----------------------------------
# Stored as written here (in English, or in Chinese for the list of the 832): the stable text a reload
# compares, which a database loaded earlier already holds. A person reads it in their own language,
# wherever it is shown (`in_reader_language`: the pages, the admin, the history).

POVERTY_SOURCE = "国务院扶贫开发领导小组办公室公布的 832 个国家级贫困县名单"
POVERTY_SOURCE_NOTE = (
    "Announcements of the State Council Leading Group Office of Poverty Alleviation and Development, "
    "as compiled in the public data set Clebeech/ds_project (data/archive/全国832个国家级贫困县名单.xlsx)."
)
ROSTER_SOURCE = "Illustrative roster made by the registry to reproduce the published batch figures; not an official record"
# Earlier wordings of ROSTER_SOURCE: records still carrying one are given the current wording.
FORMER_ROSTER_SOURCES = ("Illustrative roster (manage.py load_illustrative_roster); not an official record",)
ROSTER_NOTE = "Invented to reproduce the published batch figures; no official roster was available."
FUNDING_PURPOSE = "中央财政示范县专项资金 / central funds for the demonstration county"
FUNDING_NOTE = "Illustrative: the batch's published central funds per county, applied to each county of the batch."

# History reasons: each names the loader's write.
ROSTER_LOAD_REASON = "illustrative roster (load_illustrative_roster)"
ROSTER_REMOVE_REASON = "illustrative roster removed (load_illustrative_roster --remove)"
ROSTER_RESTATE_REASON = "illustrative roster: its source reworded for the public"
REFERENCE_CREATED_REASON = "load_reference_data: new in the reference files"
REFERENCE_CHANGED_REASON = "load_reference_data: changed in the reference files"
# The reasons a door records when the writer gives none: stored as written here, read in the
# reader's language like the loaders' (stored translated, a Chinese editor's would read Chinese
# to an English reader).
ADMIN_ADDED_REASON = "added in the admin"
ADMIN_CHANGED_REASON = "changed in the admin"
API_CREATED_REASON = "created through the API"
IMPORTED_REASON = "imported"

ROSTER_SOURCE_IN_WORDS = _("illustrative roster made to reproduce the published figures, not an official record")
LOADER_TEXT_IN_WORDS = {
    POVERTY_SOURCE: _(
        "the list of the 832 national poverty counties published by the State Council Leading Group Office of Poverty Alleviation"
    ),
    POVERTY_SOURCE_NOTE: _(
        "Announcements of the State Council Leading Group Office of Poverty Alleviation and Development, "
        "as compiled in the public data set Clebeech/ds_project."
    ),
    ROSTER_SOURCE: ROSTER_SOURCE_IN_WORDS,
    **dict.fromkeys(FORMER_ROSTER_SOURCES, ROSTER_SOURCE_IN_WORDS),
    ROSTER_NOTE: _("Invented to reproduce the published batch figures; no official roster was available."),
    FUNDING_PURPOSE: _("central funds for the demonstration county"),
    FUNDING_NOTE: _("Illustrative: the batch's published central funds per county, applied to each county of the batch."),
    ROSTER_LOAD_REASON: _("written by the illustrative roster"),
    ROSTER_REMOVE_REASON: _("the illustrative roster removed"),
    ROSTER_RESTATE_REASON: _("the illustrative roster's source reworded for the public"),
    REFERENCE_CREATED_REASON: _("new in the reference data"),
    REFERENCE_CHANGED_REASON: _("changed in the reference data"),
    ADMIN_ADDED_REASON: _("added in the admin"),
    ADMIN_CHANGED_REASON: _("changed in the admin"),
    API_CREATED_REASON: _("created through the API"),
    IMPORTED_REASON: _("imported"),
}


def in_reader_language(text: str) -> str:
    """Text a loader wrote, in the reader's language; any other text as it was written."""
    words = LOADER_TEXT_IN_WORDS.get(text)
    return text if words is None else str(words)
