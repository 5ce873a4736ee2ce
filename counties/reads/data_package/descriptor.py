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

from counties.reads.public_records import TABLES

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
class Column:
    name: str
    type: str  # Table Schema
    sql_type: str
    title: str
    description: str
    required: bool
    references: tuple[str, str] | None  # (table, its key)


def table_name(kind: str) -> str:
    """A table's name in the package (a resource, a CSV, an SQLite table): `funding_allocation`."""
    return kind.replace("-", "_").replace(" ", "_").lower()


def key_field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def columns(table: Any) -> list[Column]:
    by_model = {t.model: t for t in TABLES}
    result = []
    for name in table.fields:
        field = key_field(table.model, name)
        references = None
        typed = field
        if isinstance(field, models.ForeignKey | models.OneToOneField):
            target = by_model[field.related_model]
            references = (table_name(target.kind), target.key)
            typed = key_field(target.model, target.key)
        kind, sql_type = next(((k, s) for cls, k, s in TYPES if isinstance(typed, cls)), ("string", "TEXT"))
        with translation.override("en"):
            title = str(field.verbose_name)
            help_en = str(field.help_text)
        with translation.override("zh-hans"):
            title_zh = str(field.verbose_name)
            help_zh = str(field.help_text)
        title = f"{title[:1].upper()}{title[1:]}"
        english = title + (f": {help_en}" if help_en else "")
        chinese = title_zh + (f"：{help_zh}" if help_zh else "")
        description = english if chinese == english else f"{english} / {chinese}"
        choices = [str(value) for value, _label in field.choices] if field.choices else None
        if choices:
            description += " (" + ", ".join(choices) + ")"
        if name == table.key:
            description += "; the table's key"
        if references:
            description += f"; the {references[1]} of a row of {references[0]}"
        required = name == table.key or not (field.null or getattr(field, "blank", False))
        result.append(Column(name, kind, sql_type, title, description, required, references))
    return result


def schema(table: Any) -> dict[str, Any]:
    cols = columns(table)
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
    result: dict[str, Any] = {"fields": fields, "primaryKey": [table.key], "missingValues": [""]}
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
                "a formula starts with an apostrophe in the CSV (the SQLite file holds the text as it is)."
            ),
            "version": version,
            "created": built_at,
            "licenses": [{**({"name": lic.name} if lic.name else {}), "title": str(lic.title), "path": lic.path} for lic in LICENCES],
            "sources": [{"title": str(source.title), "path": source.path} for source in SOURCES],
            # Not part of the standard: what a mirror needs to follow the changes from here.
            "registry": {"data_version": version, "data_changed_at": changed_at, "feed_cursor": cursor},
            "resources": resources,
        }
