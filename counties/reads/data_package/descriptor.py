"""What the data package says about itself: each table's columns with their type and description
(from the model fields' verbose names and help texts, in English and Chinese), primary and foreign
keys, the licences and the sources (`datapackage.json`, Frictionless Data Package v1); the same
licences and sources are listed on /data/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from counties.reads.public_records import BY_MODEL, BY_NAME, PublicKind

PROFILE = "tabular-data-package"
NAME = "china-rural-ecommerce-demonstration-counties"
PROVENANCE_FILE = "PROVENANCE.md"


@dataclass(frozen=True)
class Source:
    title: Any  # a lazy translation
    path: str


@dataclass(frozen=True)
class Licence:
    name: str
    title: Any
    path: str


# The licences of what the tables hold (data/PROVENANCE.md has the whole story, and is in the zip).
LICENCES = (
    Licence(
        "CC0-1.0",
        _("Division codes and names: CC0 1.0, from yescallop/areacodes (the Ministry of Civil Affairs code lists)"),
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
    Licence(
        "",
        _(
            "Poverty counties, batches, designations, funding and figures: facts from public government announcements "
            "and pages, each record citing its source; the compilations they were taken from state no licence"
        ),
        PROVENANCE_FILE,
    ),
)
SOURCES = (
    Source(
        _("Ministry of Civil Affairs county-level code lists 2014–2020, via yescallop/areacodes"), "https://github.com/yescallop/areacodes"
    ),
    Source(
        _(
            "The 832 poverty counties and their exit years: announcements of the State Council Leading Group Office of "
            "Poverty Alleviation and Development, as compiled in Clebeech/ds_project"
        ),
        "https://github.com/Clebeech/ds_project",
    ),
    Source(
        _(
            "Batches, designations, funding and programme figures: public government and news pages, "
            "each record citing its own in its source column"
        ),
        PROVENANCE_FILE,
    ),
)

# Django field → Table Schema type and SQLite column type. A decimal is exact text in SQLite
# (money is never a float); in the CSV it is a plain number.
TYPES: tuple[tuple[type[models.Field], str, str], ...] = (
    (models.BooleanField, "boolean", "INTEGER"),
    (models.DecimalField, "number", "TEXT"),
    (models.FloatField, "number", "REAL"),
    (models.IntegerField, "integer", "INTEGER"),  # also the positive and small ones
    (models.AutoField, "integer", "INTEGER"),
    (models.BigAutoField, "integer", "INTEGER"),
    (models.DateTimeField, "datetime", "TEXT"),
    (models.DateField, "date", "TEXT"),
)


@dataclass(frozen=True)
class Derived:
    """A public field that is no field of the record's model (counties.reads.public_records works
    it out from other records): what the package says of it."""

    type: str
    title: Any
    help_text: Any
    references: str | None = None  # the kind whose key it holds


DERIVED: dict[tuple[str, str], Derived] = {
    ("unit", "in_use"): Derived("boolean", _("in use"), _("Whether the code is in use today (not retired).")),
    ("indicator_value", "code"): Derived("string", _("county"), _("Registry key of the county-level unit the value is for."), "unit"),
    ("assessment", "code"): Derived("string", _("county"), _("Registry key of the designated county-level unit."), "unit"),
    ("assessment", "batch_year"): Derived("integer", _("batch year"), _("Year of the designation's batch.")),
    ("assessment", "batch_sequence"): Derived("integer", _("batch of the year"), _("The batch's number within its year.")),
    ("assessment", "conditional_funding_yuan"): Derived(
        "number", _("conditional funding (yuan)"), _("The amount of the funding allocation that depends on the assessment.")
    ),
    ("assessment", "releases_funding"): Derived(
        "boolean", _("releases funding"), _("Whether the conditional funding is released; empty while pending or when none depends on it.")
    ),
    ("batch", "central_funds_per_county_derived"): Derived(
        "number",
        _("central funds per county, derived (yuan)"),
        _("Worked out by the registry, not published: the published total over the published size."),
    ),
    ("lifecycle_record", "code"): Derived("string", _("county"), _("Registry key of the designated county-level unit."), "unit"),
    ("lifecycle_record", "batch_year"): Derived("integer", _("batch year"), _("Year of the designation's batch.")),
    ("pairing", "code"): Derived("string", _("poverty county"), _("Registry key of the paired poverty county."), "unit"),
    ("pairing", "partner_code"): Derived(
        "string", _("partner county"), _("Registry key of the partner, when it is a county-level unit."), "unit"
    ),
}


@dataclass(frozen=True)
class Column:
    name: str
    path: tuple[str, ...]  # where its value is in the public record: a field, or a field and a key in it
    type: str  # Table Schema
    sql_type: str
    title: str
    description: str
    required: bool
    references: tuple[str, str] | None  # (table, its key column)


def table_name(kind: PublicKind) -> str:
    """A kind's table in the package (a resource, a CSV, an SQLite table): its stable name."""
    return kind.name


def key_column(kind: PublicKind) -> str:
    """The column that holds a kind's key (its primary key is shown as `id`, as in the API)."""
    return "id" if kind.key_field == "pk" else kind.key_field


def bilingual(title: Any, help_text: Any) -> tuple[str, str]:
    """The column's title (English) and its description, in English and Chinese."""
    with translation.override("en"):
        english_title, help_en = str(title), str(help_text or "")
    with translation.override("zh-hans"):
        chinese_title, help_zh = str(title), str(help_text or "")
    english_title = english_title[:1].upper() + english_title[1:]
    english = english_title + (f": {help_en}" if help_en else "")
    chinese = chinese_title + (f"：{help_zh}" if help_zh else "")
    return english_title, english if chinese == english else f"{english} / {chinese}"


def typed(field: models.Field) -> tuple[str, str]:
    return next(((kind, sql) for cls, kind, sql in TYPES if isinstance(field, cls)), ("string", "TEXT"))


def nested_keys(kind: PublicKind, name: str, field: models.ForeignKey) -> list[str] | None:
    """The keys of the object a getter shows for a link to a record that is no public kind (a
    unit's province: code and names), found by asking the getter about a blank record."""
    getter = kind.getters.get(name)
    if getter is None:
        return None
    probe = kind.model()
    setattr(probe, name, field.related_model())
    value = getter(probe)
    return list(value) if isinstance(value, dict) else None


def columns(kind: PublicKind) -> list[Column]:
    result = []
    for name in kind.fields:
        derived = DERIVED.get((kind.name, name))
        if derived is not None:
            title, description = bilingual(derived.title, derived.help_text)
            target = BY_NAME[derived.references] if derived.references else None
            references = (table_name(target), key_column(target)) if target else None
            sql_type = {"boolean": "INTEGER", "integer": "INTEGER"}.get(derived.type, "TEXT")
            if references:
                description += f"; the {references[1]} of a row of {references[0]}"
            result.append(Column(name, (name,), derived.type, sql_type, title, description, False, references))
            continue
        field = kind.model._meta.get_field(name)  # a public field that is neither is an error here, and in the tests
        assert isinstance(field, models.Field)
        title, description = bilingual(field.verbose_name, field.help_text)
        required = name == key_column(kind) or not (field.null or field.blank)
        if isinstance(field, models.ForeignKey):
            related = field.related_model
            target = BY_MODEL.get(related)
            if target is not None:
                column = key_column(target)
                references = (table_name(target), column)
                kind_type, sql_type = typed(target.model._meta.get_field(column))  # type: ignore[arg-type]
                description += f"; the {column} of a row of {references[0]}"
                result.append(Column(name, (name,), kind_type, sql_type, title, description, required, references))
                continue
            keys = nested_keys(kind, name, field)
            if keys is None:  # shown by one value of the record it points at (a province by its code)
                result.append(Column(name, (name,), "string", "TEXT", title, description, required, None))
                continue
            for key in keys:  # shown as an object: one column for each of its values
                sub = related._meta.get_field(key)
                assert isinstance(sub, models.Field)
                sub_title, sub_description = bilingual(sub.verbose_name, sub.help_text)
                kind_type, sql_type = typed(sub)
                result.append(
                    Column(
                        f"{name}_{key}",
                        (name, key),
                        kind_type,
                        sql_type,
                        f"{title}: {sub_title}",
                        f"{title}: {sub_description}",
                        not field.null and not sub.blank,
                        None,
                    )
                )
            continue
        kind_type, sql_type = typed(field)
        choices = [str(value) for value, _label in field.choices] if field.choices else None
        if choices:
            description += " (" + ", ".join(choices) + ")"
        if name == key_column(kind):
            description += "; the table's key"
        result.append(Column(name, (name,), kind_type, sql_type, title, description, required, None))
    return result


def value(record: dict[str, Any], column: Column) -> Any:
    """The column's value in a public record (counties.reads.public_records.public_record)."""
    found = record[column.path[0]]
    return found.get(column.path[1]) if len(column.path) > 1 and isinstance(found, dict) else found


def schema(kind: PublicKind) -> dict[str, Any]:
    cols = columns(kind)
    fields = []
    for col in cols:
        entry: dict[str, Any] = {"name": col.name, "type": col.type, "title": col.title, "description": col.description}
        if col.required:
            entry["constraints"] = {"required": True}
        fields.append(entry)
    foreign_keys = [
        {"fields": col.name, "reference": {"resource": target, "fields": key}}
        for col in cols
        if col.references
        for target, key in [col.references]
    ]
    result: dict[str, Any] = {"fields": fields, "primaryKey": [key_column(kind)], "missingValues": [""]}
    if foreign_keys:
        result["foreignKeys"] = foreign_keys
    return result


def descriptor(resources: list[dict[str, Any]], *, version: str, changed_at: str | None, cursor: Any, built_at: str) -> dict[str, Any]:
    """datapackage.json: `resources` are each table's name, path, bytes, hash and schema."""
    with translation.override("en"):
        return {
            "profile": PROFILE,
            "name": NAME,
            "title": "China's rural e-commerce demonstration counties: the public registry (电子商务进农村综合示范县登记册)",
            "description": (
                "Every public table of the registry at one data version: one CSV per table (UTF-8, one header row). "
                "The same tables are in the SQLite file beside this package. A text cell that a spreadsheet would read as "
                "a formula starts with an apostrophe in the CSV (the SQLite file holds the text as it is). Records whose "
                "source_kind is illustrative were invented to match published totals, because no official county-by-county "
                "roster is available: they are not official."
            ),
            "version": version,
            "created": built_at,
            "licenses": [{**({"name": lic.name} if lic.name else {}), "title": str(lic.title), "path": lic.path} for lic in LICENCES],
            "sources": [{"title": str(source.title), "path": source.path} for source in SOURCES],
            # Not part of the standard: what a mirror needs to follow the changes from here.
            "registry": {"data_version": version, "data_changed_at": changed_at, "feed_cursor": cursor},
            "resources": resources,
        }
