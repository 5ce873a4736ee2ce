"""What every record shares: key patterns and year bounds, the text rule, history with a reason,
source kinds and provenance, and the small predicates on codes and years."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.exceptions import NotHistoricalModelError
from simple_history.models import HistoricalRecords
from simple_history.utils import get_history_manager_for_model

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# Official GB/T 2260 codes are six digits. Units that never had an official code (the Qinghai
# 行委) get a registry key of "X" and six digits, which can never clash with an official code.
# KEY_PATTERN is unanchored so that URL patterns, filters and constraints share it.
CODE_REGEX = r"^[0-9]{6}$"
KEY_PATTERN = r"(?:[0-9]{6}|X[0-9]{6})"
REGISTRY_KEY_REGEX = rf"^{KEY_PATTERN}$"
REGISTRY_KEY_PREFIX = "X"

# The programme began in 2014; division codes in the reference data reach back to 1949.
FIRST_PROGRAMME_YEAR = 2014
# The latest year-end the registry's code history holds (data/admin_divisions_history_1981_2024.csv):
# the loader extends the units and their successions to it, so a designation up to that year names
# a code the registry holds. The one home of that bound.
LAST_REFERENCE_YEAR = 2024
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


# The year-ends the statistics answer for: the programme's first to the latest year with a batch
# (which the caller reads: it moves with the data). The page, the API and coverage_report all ask
# `as_of_year`, so a year is refused alike, with this message, at both ends.
AS_OF_MESSAGE = _("There are figures for the end of %(first)s to the end of %(latest)s (the latest year with a batch), not %(year)s.")


def as_of_year(value: int | None, latest: int) -> int:
    """The year-end a statistic is asked for: `latest` (the latest year with a batch) when none is
    given, `value` when it lies from the programme's first year to `latest`; else ValidationError."""
    if value is None:
        return latest
    if not FIRST_PROGRAMME_YEAR <= value <= latest:
        raise ValidationError(AS_OF_MESSAGE, code="range", params={"first": FIRST_PROGRAMME_YEAR, "latest": latest, "year": value})
    return value


def code_in_use(first_year: int | None, last_year: int | None, year: int | None = None) -> bool:
    """Whether a code with these years in use was in use at the end of `year` (empty: open-ended);
    with no year, whether it is in use today (not retired: it has no last year)."""
    if year is None:
        return last_year is None
    return (first_year is None or first_year <= year) and (last_year is None or last_year >= year)


def in_use_at_q(year: int | None = None, prefix: str = "") -> Q:
    """The same rule as `code_in_use`, as a filter on a unit (`prefix` reaches it, e.g. "unit__")."""
    today = Q(**{f"{prefix}last_year__isnull": True})
    if year is None:
        return today
    return (Q(**{f"{prefix}first_year__lte": year}) | Q(**{f"{prefix}first_year__isnull": True})) & (
        Q(**{f"{prefix}last_year__gte": year}) | today
    )


# Characters no registry text may hold: C0 controls other than tab, newline and carriage return;
# DEL and the C1 controls (U+0080-U+009F: U+0085 is a line break to some programs, U+009B starts a
# terminal's escape sequence); and the bidirectional embeddings, overrides and isolates
# (U+202A-U+202E, U+2066-U+2069), which reorder the text around them, so that what a reader sees is
# not what is stored. They are invisible on a page and never typed on purpose; pasted from other
# software, they are refused with a message. The marks U+200E, U+200F and U+061C are allowed: each
# acts as one invisible letter of a direction and cannot reverse the text around it as an override
# does, and text pasted from right-to-left documents carries them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# django-simple-history keeps a change's reason in a column of 100 characters; the write services
# refuse a longer reason, so that every door gives the same answer instead of a database error.
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


def tracked_models() -> list[type[models.Model]]:
    """The registry's tracked models: every model that keeps a change history, in the app's order.

    Declaring `history = RegistryHistory()` on a model is what puts it on this list, so the list
    cannot fall behind the models: the write services, the change log and a unit's deletion read it.
    """
    return [m for m in apps.get_app_config("counties").get_models() if _has_history(m)]


def _has_history(model: type[models.Model]) -> bool:
    try:
        get_history_manager_for_model(model)
    except NotHistoricalModelError:
        return False
    return True


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
    # A prefecture-level city with no districts (不设区的地级市) that a county-level unit became:
    # 儋州市 469003 became 儋州市 460400 in 2015. The registry keeps it as the place's unit.
    PREFECTURE_LEVEL_CITY = "prefecture-level city", _("prefecture-level city without districts")
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
    message: str | StrPromise | None = None,
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


# A record's source holds one or more parts, each a document number, a description or one URL,
# separated by SOURCE_SEPARATOR. The pages link every URL part on its own, so a URL must be a part
# by itself: two URLs glued together (or a URL and text around it) would make one broken link.
SOURCE_SEPARATOR = " ; "
_URL_START = re.compile(r"https?://", re.IGNORECASE)


def source_parts(value: str) -> list[str]:
    """A source's parts, in the order recorded, without blanks: "a ; http://b" → ["a", "http://b"]."""
    return [part.strip() for part in value.split(SOURCE_SEPARATOR) if part.strip()]


def is_url(part: str) -> bool:
    return _URL_START.match(part) is not None


def is_government_url(url: str) -> bool:
    """Whether a URL is on a Chinese government site: its host is gov.cn or ends in .gov.cn. Every
    other site (a news site, a copy, a domain that has since changed hands) is not a government source."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return host == "gov.cn" or host.endswith(".gov.cn")


def sources_separated(value: object) -> None:
    """Field validator of a record's source, run by the admin's forms, the API's serializers, the
    imports and (through the write services) every loader: each URL is a part of its own."""
    if not isinstance(value, str):
        return
    for position, part in enumerate(source_parts(value), start=1):
        starts = [m.start() for m in _URL_START.finditer(part)]
        if len(starts) > 1:
            raise ValidationError(
                _("Part %(position)s of the source holds %(count)s URLs; separate them with ' ; ' so that each is a link of its own."),
                code="source_urls_glued",
                params={"position": position, "count": len(starts)},
            )
        if starts and starts[0] != 0:
            raise ValidationError(
                _("Part %(position)s of the source has text before its URL; write the URL as a part of its own, after ' ; '."),
                code="source_url_not_alone",
                params={"position": position},
            )
        if starts and (space := re.search(r"\s", part)):
            raise ValidationError(
                _("The URL in part %(position)s of the source holds a space (at position %(at)s); separate URLs with ' ; '."),
                code="source_url_space",
                params={"position": position, "at": space.start() + 1},
            )


class Provenance(models.Model):
    """Where a record comes from and how far it can be trusted."""

    source = models.TextField(
        _("source"),
        help_text=_("Document number or URL of the source; several separated by ' ; '."),
        validators=[no_control_characters, sources_separated],
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
