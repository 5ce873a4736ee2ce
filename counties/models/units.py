"""Units and places: provinces, prefectures, county-level units (one per code as it existed), the
successions between codes and the lineage closure that finds a place through them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from counties.models.base import (
    CODE_REGEX,
    FIRST_DIVISION_YEAR,
    REGISTRY_KEY_PREFIX,
    REGISTRY_KEY_REGEX,
    UNIT_TYPE_LABELS,
    ParentType,
    RegistryHistory,
    TimeStamped,
    UnitType,
    _choices_check,
    _year_check,
    code_in_use,
    in_use_at_q,
    no_control_characters,
)


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
        return self.filter(in_use_at_q())


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

    # Not fields: the records of the unit's place, through code changes, given to the units a page
    # shows by the reads (`attach_place_records`): poverty statuses, designations, counted ones.
    place_poverty: list[Any]
    place_designations: list[Any]
    place_entries: list[Any]

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
        return code_in_use(self.first_year, self.last_year)

    @property
    def has_official_code(self) -> bool:
        return self.code is not None

    def get_unit_type_display(self) -> str:  # type: ignore[no-redef]  # django-stubs declares Django's generated one
        # The label of the type in the active language, as Django's own method gives it; that one
        # hashes every lazy label of the choices on each call (make_hashable), which cost a
        # 50-row county list about a tenth of its rendering.
        return str(UNIT_TYPE_LABELS.get(self.unit_type, self.unit_type))

    def in_use_in(self, year: int) -> bool:
        """Whether the code was in use at the end of `year` (the single-unit form of `in_use_at`)."""
        return code_in_use(self.first_year, self.last_year, year)

    def units_in_use_in(self, year: int) -> list[Unit]:
        """The unit(s) this code stood for in `year`: the unit it had become (a retired code), or
        the units that became it (a code created later). Read from the lineage closure that
        `services.rebuild_lineage` keeps from the primary successions, in one query."""
        lineage = UnitLineage.objects.all()
        if self.last_year is not None and self.last_year < year:
            line = lineage.filter(ancestor=self).values_list("descendant", flat=True)
        else:
            line = lineage.filter(descendant=self).values_list("ancestor", flat=True)
        return list(Unit.objects.filter(in_use_at_q(year), pk__in=line).exclude(pk=self.pk).order_by("key"))

    @property
    def became(self) -> Unit | None:
        """The unit this retired code has become, when that is another (None for a code in use):
        the place rule's answer for a loaded unit (`places.place_named` for a code)."""
        return self.current if self.current_id is not None and self.current_id != self.pk else None


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
    `counties.writes.services.rebuild_lineage`; never edited by hand. It lets one query ask "is this
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


def same_line(unit_id: int, path: str = "") -> Q:
    """A unit (reached through `path`, e.g. "unit__") on one line of code changes with `unit_id`:
    the unit itself, every unit it became and every unit that became it. The test the models'
    own checks make for "the same county": units merged into one are on two lines, so they stay
    two poverty counties (of the 832), and the funding of one is not the other's."""
    return Q(**{f"{path}pk__in": UnitLineage.objects.filter(descendant_id=unit_id).values("ancestor")}) | Q(
        **{f"{path}pk__in": UnitLineage.objects.filter(ancestor_id=unit_id).values("descendant")}
    )


def lines_apart(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of pairs of unit ids, those *not* on one line of code changes: `same_line` for many pairs
    at once (a write's links), in one query per 900 units whatever the number of pairs."""
    apart = {(a, b) for a, b in pairs if a != b}
    units = sorted({unit for pair in apart for unit in pair})
    linked: set[tuple[int, int]] = set()
    for start in range(0, len(units), 900):
        rows = UnitLineage.objects.filter(ancestor_id__in=units[start : start + 900]).order_by()
        linked.update(rows.values_list("ancestor_id", "descendant_id"))
    return {(a, b) for a, b in apart if (a, b) not in linked and (b, a) not in linked}


# A link between two records (a funding record's designation, an assessment's conditional funding)
# stays within one place: else a write in one place, or one province, could change or remove
# another's record through it.
OTHER_PLACE_LINK = _(
    "%(record)s cannot point at %(linked)s (%(other_province)s): a record may point only at records of its own place, "
    "%(unit)s (%(province)s) under any of its codes."
)


def other_place_link(record: models.Model, unit: Unit, linked: models.Model, linked_unit: Unit) -> str:
    """The refusal of a link from `record` (of `unit`) to `linked` (of `linked_unit`), naming both."""
    return str(
        OTHER_PLACE_LINK
        % {
            "record": record,
            "linked": linked,
            "other_province": linked_unit.province.name_zh,
            "unit": unit,
            "province": unit.province.name_zh,
        }
    )
