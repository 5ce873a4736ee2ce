"""The registry's data model.

Three ideas carry the domain (see DESIGN.md in the shared brief):

* A `Unit` is one county-level division *code* (GB/T 2260) as it existed; a retired code stays a
  unit of its own, linked to what replaced it by `UnitSuccession`. A designation is recorded
  against the unit as it was when designated and still counts for the same place after a code
  change, through `Unit.current` and the `UnitLineage` closure.
* Batch entries (`Designation` rows) and distinct counties are different numbers.
* Every designation, funding record and figure carries its provenance (`Provenance`).

Integrity lives in the database as CHECK and UNIQUE constraints that hold on SQLite and
PostgreSQL alike, not only in forms.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# Official GB/T 2260 codes are six digits. Units that never had an official code (the Qinghai
# 行委) get a registry key of "X" and six digits, which can never clash with an official code.
# KEY_PATTERN is unanchored so that URL patterns, filters and constraints share it.
CODE_REGEX = r"^[0-9]{6}$"
KEY_PATTERN = r"(?:[0-9]{6}|X[0-9]{6})"
REGISTRY_KEY_REGEX = rf"^{KEY_PATTERN}$"
REGISTRY_KEY_PREFIX = "X"

# The programme began in 2014; division codes in the reference data reach back to 1949.
FIRST_PROGRAMME_YEAR = 2014
LAST_PLAUSIBLE_YEAR = 2100
FIRST_DIVISION_YEAR = 1949

# The 832 poverty counties exited poverty (脱贫摘帽) from 2016 to 2020 (DESIGN.md); no exit year
# outside these is possible. The field's validator and its CHECK constraint both read them here.
FIRST_EXIT_YEAR = 2016
LAST_EXIT_YEAR = 2020
# Formatted when read, in the reader's language; without %-placeholders, so that Django can use it
# as the constraint's message too (it formats that one with the constraint's name).
EXIT_YEAR_MESSAGE = format_lazy(
    _("The exit year must be between {first} and {last}: the poverty counties exited poverty in those years."),
    first=FIRST_EXIT_YEAR,
    last=LAST_EXIT_YEAR,
)


def exit_year_in_range(value: int | None) -> None:
    """Field validator of a poverty status's exit year: run by the admin's form, the API's
    serializers and the imports alike, so each shows the same message on that field."""
    if value is not None and not FIRST_EXIT_YEAR <= value <= LAST_EXIT_YEAR:
        raise ValidationError(EXIT_YEAR_MESSAGE, code="exit_year_out_of_range")


def code_in_use(first_year: int | None, last_year: int | None, year: int) -> bool:
    """Whether a code with these years in use was in use at the end of `year` (empty: open-ended)."""
    return (first_year is None or first_year <= year) and (last_year is None or last_year >= year)


def in_use_at_q(year: int, prefix: str = "") -> Q:
    """The same rule as `code_in_use`, as a filter on a unit (`prefix` reaches it, e.g. "unit__")."""
    return (Q(**{f"{prefix}first_year__lte": year}) | Q(**{f"{prefix}first_year__isnull": True})) & (
        Q(**{f"{prefix}last_year__gte": year}) | Q(**{f"{prefix}last_year__isnull": True})
    )


def code_matches(value: str, path: str = "", prefix: bool = False, earlier: bool = False) -> Q:
    """A unit (reached through `path`, e.g. "unit__") named by `value`: the unit holding the code,
    and the unit that code has become, so an old code also finds its successor. With `prefix`,
    codes starting with `value` match too (the successor still only for an exact code).

    With `earlier`, also the units that became the one holding the code (its earlier codes, units
    merged into it: `places.known_as`, read from the same lineage), so the current code finds the
    records still held under the codes it replaced (宣化区 130705 finds 宣化县 130721's)."""
    held = Q(**{f"{path}key__startswith" if prefix else f"{path}key": value})
    found = held | Q(**{f"{path}pk__in": Unit.objects.filter(key=value).values("current")})
    if earlier:
        found |= Q(**{f"{path}pk__in": UnitLineage.objects.filter(descendant__key=value).values("ancestor")})
    return found


# Characters no registry text may hold: C0 controls other than tab, newline and carriage return,
# and DEL. They are invisible on a page, cannot be written into an XLSX file (XML forbids them)
# and are never typed on purpose; pasted from other software, they are refused with a message.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# django-simple-history keeps a change's reason in a column of 100 characters (every door checks it).
CHANGE_REASON_MAX_LENGTH = 100


def no_control_characters(value: object) -> None:
    """Field validator on every free-text field: run by forms, API serializers and imports alike."""
    if isinstance(value, str) and (found := CONTROL_CHARACTERS.search(value)):
        raise ValidationError(
            _("Remove the control character %(character)s (at position %(position)s); text may not contain control characters."),
            code="control_character",
            params={"character": f"U+{ord(found.group()):04X}", "position": found.start() + 1},
        )


class RegistryHistory(HistoricalRecords):
    """django-simple-history with history models named in the reader's language.

    simple_history names them "historical <verbose name>", with the verbose name evaluated once,
    in whatever language was active at import ("Historical 示范县认定" on an English page); this
    keeps both parts lazy and translatable.
    """

    def get_meta_options(self, model: type[models.Model]) -> dict:
        options = super().get_meta_options(model)
        options["verbose_name"] = format_lazy(_("history of {}"), model._meta.verbose_name)
        options["verbose_name_plural"] = format_lazy(_("history of {}"), model._meta.verbose_name_plural)
        return options


class SourceKind(models.TextChoices):
    """How far a record can be trusted."""

    OFFICIAL = "official", _("official")
    SECONDARY = "secondary", _("secondary")
    UNVERIFIED = "unverified", _("unverified")
    ILLUSTRATIVE = "illustrative", _("illustrative")


class Region(models.TextChoices):
    # A region of China (东部/中部/西部); "central" is also a funding level (中央): see FundingLevel.
    EAST = "east", pgettext_lazy("region", "east")
    CENTRAL = "central", pgettext_lazy("region", "central")
    WEST = "west", pgettext_lazy("region", "west")


class UnitType(models.TextChoices):
    COUNTY = "county", _("county")
    DISTRICT = "district", _("district")
    COUNTY_LEVEL_CITY = "county-level city", _("county-level city")
    AUTONOMOUS_COUNTY = "autonomous county", _("autonomous county")
    BANNER = "banner", _("banner")
    AUTONOMOUS_BANNER = "autonomous banner", _("autonomous banner")
    SPECIAL_DISTRICT = "special district", _("special district")
    FORESTRY_DISTRICT = "forestry district", _("forestry district")
    ADMINISTRATIVE_COMMITTEE = "administrative committee", _("administrative committee")


UNIT_TYPE_LABELS = dict(UnitType.choices)


class ParentType(models.TextChoices):
    PREFECTURE = "prefecture", _("prefecture")
    MUNICIPALITY = "municipality", _("municipality")
    PROVINCE_ADMINISTERED = "province-administered", _("province-administered")


def _choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


def _year_check(
    field: str,
    name: str,
    low: int = FIRST_PROGRAMME_YEAR,
    nullable: bool = False,
    high: int = LAST_PLAUSIBLE_YEAR,
    message: object = None,
) -> models.CheckConstraint:
    in_range = Q(**{f"{field}__gte": low, f"{field}__lte": high})
    # A plain message by default; a given one (a field's own, in the reader's language) must hold no
    # %-placeholders: Django formats a constraint's message with the constraint's name.
    message = message or f"{field} must be a year between {low} and {high}."
    return models.CheckConstraint(
        condition=(in_range | Q(**{f"{field}__isnull": True})) if nullable else in_range, name=name, violation_error_message=message
    )


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class Provenance(models.Model):
    """Where a record comes from and how far it can be trusted."""

    source = models.TextField(
        _("source"), help_text=_("Document number or URL of the source; several separated by ' ; '."), validators=[no_control_characters]
    )
    source_kind = models.CharField(
        _("source kind"),
        max_length=16,
        choices=SourceKind.choices,
        help_text=_("Illustrative records are invented to match published totals and are never official."),
    )
    source_note = models.TextField(_("source note"), blank=True, validators=[no_control_characters])

    class Meta:
        abstract = True

    @property
    def is_illustrative(self) -> bool:
        return self.source_kind == SourceKind.ILLUSTRATIVE


def provenance_constraints(prefix: str) -> list[models.CheckConstraint]:
    return [
        _choices_check("source_kind", SourceKind, f"{prefix}_source_kind_valid"),
        models.CheckConstraint(condition=~Q(source=""), name=f"{prefix}_source_not_empty"),
    ]


class Province(TimeStamped):
    code = models.CharField(_("code"), max_length=6, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=32, validators=[no_control_characters])
    name_pinyin = models.CharField(_("pinyin"), max_length=64, validators=[no_control_characters])
    name_en = models.CharField(_("English name"), max_length=96, validators=[no_control_characters])
    short_name_zh = models.CharField(
        _("short Chinese name"),
        max_length=8,
        validators=[no_control_characters],
        help_text=_("For tables and chart labels: 新疆 for 新疆维吾尔自治区."),
    )
    short_name_en = models.CharField(
        _("short English name"),
        max_length=32,
        validators=[no_control_characters],
        help_text=_("For tables and chart labels: Xinjiang for Xinjiang Uygur Autonomous Region."),
    )

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[1-9][0-9]0000$"), name="province_code_format"),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"

    @property
    def short_name(self) -> str:
        """The short name in the language of the request (新疆 / Xinjiang), for tables and charts."""
        return local_name(self.short_name_zh, self.short_name_en)


def local_name(name_zh: str, name_en: str) -> str:
    """The English name on English pages, the Chinese one otherwise (and when there is no English)."""
    return name_en if name_en and (get_language() or "").startswith("en") else name_zh


class Prefecture(TimeStamped):
    code = models.CharField(_("code"), max_length=6, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=64, validators=[no_control_characters])
    name_pinyin = models.CharField(_("pinyin"), max_length=128, validators=[no_control_characters])
    name_en = models.CharField(_("English name"), max_length=160, validators=[no_control_characters])
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="prefectures", verbose_name=_("province"))

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["code"]
        verbose_name = _("prefecture")
        verbose_name_plural = _("prefectures")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[1-9][0-9]{3}00$"), name="prefecture_code_format"),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"


class UnitQuerySet(models.QuerySet["Unit"]):
    def in_use_at(self, year: int) -> UnitQuerySet:
        """Units whose code was in use at the end of `year`."""
        return self.filter(in_use_at_q(year))

    def in_use(self) -> UnitQuerySet:
        return self.filter(last_year__isnull=True)

    def resolve(self, code: str) -> Unit | None:
        """The unit a code names today: the unit itself, or the unit that replaced a retired code.

        Accepts official codes and registry keys. Returns None for a code the registry never held.
        """
        # The code matcher gives the unit and what it became; the place is the one that is its own current.
        found = list(self.filter(code_matches(code)))
        return next((u for u in found if u.current_id == u.pk), None) or next((u for u in found if u.key == code), None)


class Unit(TimeStamped):
    """A county-level division code (or, for units that had none, a registry key)."""

    key = models.CharField(
        _("registry key"),
        max_length=7,
        unique=True,
        help_text=_("The official code, or X + six digits for a unit that never had an official code."),
    )
    code = models.CharField(_("official code"), max_length=6, unique=True, null=True, blank=True)
    name_zh = models.CharField(_("Chinese name"), max_length=64, db_index=True, validators=[no_control_characters])
    other_names = models.CharField(
        _("other names"),
        max_length=200,
        blank=True,
        help_text=_("Earlier names used under the same code, separated by ';'."),
        validators=[no_control_characters],
    )
    name_pinyin = models.CharField(_("pinyin"), max_length=128, db_index=True, validators=[no_control_characters])
    name_en = models.CharField(_("English name"), max_length=160, validators=[no_control_characters])
    name_en_generated = models.BooleanField(
        _("English name generated"),
        default=True,
        help_text=_(
            "Generated from the pinyin by the loader. Clear this when a person has checked or corrected "
            "the name; the loader then leaves it alone."
        ),
    )
    unit_type = models.CharField(_("type"), max_length=32, choices=UnitType.choices)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="units", verbose_name=_("province"))
    prefecture = models.ForeignKey(
        Prefecture, on_delete=models.PROTECT, related_name="units", null=True, blank=True, verbose_name=_("prefecture")
    )
    parent_type = models.CharField(_("parent type"), max_length=32, choices=ParentType.choices)
    first_year = models.PositiveSmallIntegerField(
        _("first year in use"), null=True, blank=True, help_text=_("First year-end at which the code was in use.")
    )
    last_year = models.PositiveSmallIntegerField(
        _("last year in use"),
        null=True,
        blank=True,
        help_text=_("Last year-end at which the code was in use; empty while in use."),
    )
    current = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("current unit"),
        help_text=_("The unit this one has become, following primary successors (itself while in use). Derived."),
    )
    notes = models.TextField(_("notes"), blank=True, validators=[no_control_characters])

    objects = UnitQuerySet.as_manager()
    # `current` is derived from the successions (services.rebuild_lineage rewrites it in bulk, with
    # no history): history records what people and loaders recorded, so it stays true.
    history = RegistryHistory(excluded_fields=["created_at", "updated_at", "current"])

    class Meta:
        ordering = ["key"]
        verbose_name = _("county-level unit")
        verbose_name_plural = _("county-level units")
        # A province's units in the list's order: the county list and the API filtered by province
        # read a page of them without sorting all the province's units (1,000 with ten times the data).
        indexes = [models.Index(fields=["province", "key"], name="unit_province_key")]
        constraints = [
            models.CheckConstraint(condition=Q(key__regex=REGISTRY_KEY_REGEX), name="unit_key_format"),
            models.CheckConstraint(condition=Q(code__isnull=True) | Q(code__regex=CODE_REGEX), name="unit_code_format"),
            # An official unit's key is its code; only a code-less unit may carry an X key.
            models.CheckConstraint(
                condition=(Q(code__isnull=False) & Q(key=F("code"))) | (Q(code__isnull=True) & Q(key__startswith=REGISTRY_KEY_PREFIX)),
                name="unit_key_matches_code",
            ),
            _choices_check("unit_type", UnitType, "unit_type_valid"),
            _choices_check("parent_type", ParentType, "unit_parent_type_valid"),
            _year_check("first_year", "unit_first_year_plausible", low=FIRST_DIVISION_YEAR, nullable=True),
            _year_check("last_year", "unit_last_year_plausible", low=FIRST_DIVISION_YEAR, nullable=True),
            models.CheckConstraint(
                condition=Q(first_year__isnull=True) | Q(last_year__isnull=True) | Q(last_year__gte=F("first_year")),
                name="unit_years_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.key})"

    @property
    def is_in_use(self) -> bool:
        return self.last_year is None

    def is_in_use_at(self, year: int) -> bool:
        return code_in_use(self.first_year, self.last_year, year)

    @property
    def has_official_code(self) -> bool:
        return self.code is not None

    def get_unit_type_display(self) -> str:
        # The label of the type in the active language, as Django's own method gives it; that one
        # hashes every lazy label of the choices on each call (make_hashable), which cost a
        # 50-row county list about a tenth of its rendering.
        return str(UNIT_TYPE_LABELS.get(self.unit_type, self.unit_type))

    def in_use_in(self, year: int) -> bool:
        """Whether the code was in use at the end of `year` (the single-unit form of `in_use_at`)."""
        return (self.first_year is None or self.first_year <= year) and (self.last_year is None or self.last_year >= year)

    def units_in_use_in(self, year: int) -> list[Unit]:
        """The unit(s) this code stood for in `year`: its primary successor (followed forward) for a
        retired code, its primary predecessors (followed back) for a code created later."""
        found, frontier, seen = [], [self], {self.pk}
        forward = self.last_year is not None and self.last_year < year
        while frontier:
            step = []
            for unit in frontier:
                if unit.in_use_in(year):
                    found.append(unit)
                    continue
                edges = (
                    UnitSuccession.objects.filter(predecessor=unit, is_primary=True, successor__isnull=False).select_related("successor")
                    if forward
                    else UnitSuccession.objects.filter(successor=unit, is_primary=True).select_related("predecessor")
                )
                for edge in edges:
                    nxt = edge.successor if forward else edge.predecessor
                    if nxt.pk not in seen:
                        seen.add(nxt.pk)
                        step.append(nxt)
            frontier = step
        return sorted(found, key=lambda u: u.key)


def code_not_in_use_error(unit: Unit, year: int) -> str | None:
    """The rule for every door: a record names a unit by the code in use in the record's year
    (a designation: the batch year; funding: the fiscal year). Returns the message, with the
    right code(s) suggested, or None when the code was in use."""
    if unit.in_use_in(year):
        return None
    names = {"code": unit.key, "name": unit.name_zh, "year": year}
    if unit.last_year is not None and unit.last_year < year:
        message = str(_("code %(code)s (%(name)s) was retired after %(last)s") % {**names, "last": unit.last_year})
        suggestion = _("use its successor %(codes)s")
    else:
        message = str(
            _("code %(code)s (%(name)s) was not in use in %(year)s; it was created in %(first)s") % {**names, "first": unit.first_year}
        )
        suggestion = _("in %(year)s use its predecessor %(codes)s")
    right = unit.units_in_use_in(year)
    if right:
        codes = str(_(" or ")).join(str(_("%(code)s (%(name)s)") % {"code": u.key, "name": u.name_zh}) for u in right)
        message += "; " + str(suggestion % {"codes": codes, "year": year})
    return message


class SuccessionKind(models.TextChoices):
    REPLACED = "replaced", _("code replaced (all or part of the area)")
    AREA_TRANSFER = "area_transfer", _("area transferred in another year")


class UnitSuccession(TimeStamped):
    """One edge of the code history: part or all of `predecessor` went to `successor_code`.

    The primary edge (at most one per predecessor) says which unit a retired code *became*; it is
    what lookups and statistics follow. The successor may lie outside the registry's reference
    window (codes created after 2020), in which case only its code is known.
    """

    predecessor = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="successions", verbose_name=_("predecessor"))
    successor = models.ForeignKey(
        Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="predecessions", verbose_name=_("successor")
    )
    successor_code = models.CharField(_("successor code"), max_length=7)
    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("kind"), max_length=16, choices=SuccessionKind.choices)
    is_primary = models.BooleanField(
        _("primary successor"), default=False, help_text=_("The unit the predecessor became; lookups by the old code go there.")
    )

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["predecessor__key", "year", "successor_code", "pk"]
        verbose_name = _("code succession")
        verbose_name_plural = _("code successions")
        constraints = [
            models.UniqueConstraint(fields=["predecessor", "successor_code", "year"], name="succession_unique"),
            models.UniqueConstraint(fields=["predecessor"], condition=Q(is_primary=True), name="succession_one_primary"),
            models.CheckConstraint(condition=Q(successor_code__regex=REGISTRY_KEY_REGEX), name="succession_code_format"),
            models.CheckConstraint(condition=~Q(successor=F("predecessor")), name="succession_not_self"),
            _choices_check("kind", SuccessionKind, "succession_kind_valid"),
            _year_check("year", "succession_year_plausible", low=FIRST_DIVISION_YEAR),
            models.CheckConstraint(
                condition=Q(is_primary=False) | Q(kind=SuccessionKind.REPLACED), name="succession_primary_is_replacement"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor.key} → {self.successor_code} ({self.year})"


class UnitLineage(models.Model):
    """Closure of the primary successions: `ancestor` became `descendant` after `depth` steps.

    Every unit is its own ancestor at depth 0. Derived from `UnitSuccession` by
    `counties.services.rebuild_lineage`; never edited by hand. It lets one query ask "is this
    designation for the same place as that poverty county?" across code changes, without
    treating two merged units as one place before their merger.
    """

    ancestor = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="lineage_descendants")
    descendant = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="lineage_ancestors")
    depth = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["ancestor", "depth", "descendant"]
        verbose_name = _("unit lineage")
        verbose_name_plural = _("unit lineage")
        constraints = [
            models.UniqueConstraint(fields=["ancestor", "descendant"], name="lineage_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.ancestor_id} → {self.descendant_id} ({self.depth})"


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


# There are exactly 832 poverty counties (DESIGN.md): every statistic counts them as listed. The
# rule is checked per record (a field's message, before writing) and over the set (after a bulk
# write): the two functions below, with one pair of messages.
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
    lineage = UnitLineage.objects.filter(Q(ancestor_id=unit_id) | Q(descendant_id=unit_id)).values_list("ancestor_id", "descendant_id")
    same_place = {unit for pair in lineage for unit in pair} - {unit_id}
    held = others.filter(unit_id__in=same_place).select_related("unit").first() if same_place else None
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
    twice = (
        UnitLineage.objects.filter(depth__gt=0, ancestor__poverty_status__isnull=False, descendant__poverty_status__isnull=False)
        .select_related("ancestor", "descendant")
        .order_by("descendant__key", "ancestor__key")
        .first()
    )
    return None if twice is None else SAME_PLACE_LISTED % {"unit": twice.descendant, "other": twice.ancestor}


SAME_PLACE_LISTED = _(
    "%(unit)s is the same place as %(other)s, which is already listed as a poverty county: a place is counted once. "
    "Correct that record instead."
)
ALL_POVERTY_COUNTIES_LISTED = _(
    "All %(total)s poverty counties are listed, and there are exactly %(total)s: correct or remove one before adding another."
)


class Batch(Provenance, TimeStamped):
    """One batch of demonstration counties (a year may have more than one, e.g. 2021's first)."""

    year = models.PositiveSmallIntegerField(_("year"))
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

    history = RegistryHistory(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["year", "sequence"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="batch_unique_year_sequence"),
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


class DesignationStatus(models.TextChoices):
    DESIGNATED = "designated", _("designated")
    ACCEPTED = "accepted", _("passed acceptance")
    WITHDRAWN = "withdrawn", _("withdrawn")


class DesignationQuerySet(models.QuerySet["Designation"]):
    def counted(self) -> DesignationQuerySet:
        """Designations that count as batch entries: all but withdrawn ones."""
        return self.exclude(status=DesignationStatus.WITHDRAWN)


class Designation(Provenance, TimeStamped):
    """A unit designated as a demonstration county in a batch: one batch entry."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="designations", verbose_name=_("unit"))
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="designations", verbose_name=_("batch"))
    status = models.CharField(_("status"), max_length=16, choices=DesignationStatus.choices, default=DesignationStatus.DESIGNATED)
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
            _choices_check("status", DesignationStatus, "designation_status_valid"),
            *provenance_constraints("designation"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} — {self.batch}"

    def clean(self) -> None:
        if self.unit_id is not None and self.batch_id is not None:
            error = code_not_in_use_error(self.unit, self.batch.year)
            if error:
                raise ValidationError({"unit": error})


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
        if self.designation_id is not None and self.source_kind != SourceKind.ILLUSTRATIVE and self.designation.is_illustrative:
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


class ReferenceSnapshot(models.Model):
    """What `load_reference_data` last wrote to one record, field by field (JSON values).

    A reload changes a field only while the record still holds the value recorded here: any other
    value was put there since by a person (or another door), and the reload keeps it and reports
    it. A snapshot whose record is gone means someone deleted it; the reload does not bring it back.
    """

    model = models.CharField(max_length=64)
    key = models.CharField(max_length=200)  # the record's natural key in the reference files, as JSON
    values = models.JSONField()

    class Meta:
        ordering = ["model", "key"]
        verbose_name = _("reference data snapshot")
        verbose_name_plural = _("reference data snapshots")
        constraints = [models.UniqueConstraint(fields=["model", "key"], name="reference_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.model} {self.key}"


class DataVersion(models.Model):
    """One row whose token changes whenever a record the statistics read changes.

    Cached statistics are keyed by the token, so an edit made in any process is seen by every
    other process at its next read, whatever cache backend each uses. A random token (not a
    counter) also stays correct when a transaction that changed it is rolled back.
    """

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("data version")
        verbose_name_plural = _("data version")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="data_version_single_row")]

    def __str__(self) -> str:
        return self.token


class ImportRecord(models.Model):
    """One import that was written (admin or command line): who, when, which file, what it did.

    Written by `services.write_records` in the import's own transaction, so a rolled-back import
    leaves no record; the data officer's dashboard lists the recent ones.
    """

    created_at = models.DateTimeField(_("imported at"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("user")
    )
    model = models.CharField(_("records"), max_length=64, help_text=_("The model's label, e.g. counties.designation."))
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    rows = models.PositiveIntegerField(_("rows in the file"))
    created = models.PositiveIntegerField(_("created"))
    changed = models.PositiveIntegerField(_("changed"))
    unchanged = models.PositiveIntegerField(_("unchanged"))
    removed = models.PositiveIntegerField(_("removed"))
    reason = models.CharField(_("reason"), max_length=100)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.model} {self.file_name}"

    @property
    def model_class(self) -> type[models.Model] | None:
        from django.apps import apps

        try:
            return apps.get_model(self.model)
        except (LookupError, ValueError):
            return None


class StaffProfile(models.Model):
    """What a staff account may touch beyond its permissions: a provincial editor's province."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registry_profile")
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("province"),
        help_text=_("A provincial editor changes only records of this province (everything stays visible)."),
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.province or _('all provinces')})"


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


class ApiToken(models.Model):
    """A partner's API token. Only its SHA-256 hash is stored; the key is shown once, when issued."""

    KEY_PREFIX = "dcr_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100, help_text=_("Who or what the token is for."), validators=[no_control_characters])
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key starts with"), max_length=12, editable=False)
    can_write = models.BooleanField(
        _("may write"), default=False, help_text=_("Read-only unless set; writes also need the user's permissions.")
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def issue(cls, user: models.Model, name: str, **fields: object) -> tuple[ApiToken, str]:
        """Create a token; returns it with the plain key, which is not stored anywhere."""
        key = cls.KEY_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=hash_token(key), key_prefix=key[:8], **fields)
        return token, key

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


# -- targets and results (issue 14): their own module, models of this app ------------------------
from .targets_models import Assessment, Indicator, IndicatorValue, Pairing  # noqa: E402, F401
