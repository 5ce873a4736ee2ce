"""What the data officers' dashboard shows: records by how far they can be trusted, the batches
that still hold illustrative records, and the recent imports. One query per model counted, one for
the batches, one for the imports: the cost does not grow with the data."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db import models
from django.db.models import Count, Q

from counties.models import Batch, ImportRecord, Provenance, SourceKind
from counties.reads.permissions import write_scope


@dataclass
class KindRow:
    model: type[models.Model]
    counts: list[tuple[str, str, int]]  # (kind, label, count), in SourceKind's order
    total: int
    # The records' list, and the counts with the list of each kind's records, where a door links them.
    url: str | None = None
    links: list[tuple[str, str, int, str | None]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    @property
    def illustrative(self) -> int:
        return next(n for kind, _label, n in self.counts if kind == SourceKind.ILLUSTRATIVE)


def provenance_models() -> list[type[models.Model]]:
    """Every model whose records carry a source and a source kind."""
    return [m for m in apps.get_app_config("counties").get_models() if issubclass(m, Provenance)]


def records_by_source_kind() -> list[KindRow]:
    rows = []
    for model in provenance_models():
        counts = dict(model._default_manager.order_by().values_list("source_kind").annotate(n=Count("pk")))
        rows.append(
            KindRow(
                model=model,
                counts=[(kind.value, str(kind.label), counts.get(kind.value, 0)) for kind in SourceKind],
                total=sum(counts.values()),
            )
        )
    return rows


def batches_with_illustrative_records() -> models.QuerySet[Batch]:
    """Batches that still hold illustrative designations, with how many of how many."""
    illustrative = Q(designations__source_kind=SourceKind.ILLUSTRATIVE)
    return (
        Batch.objects.annotate(illustrative=Count("designations", filter=illustrative), designations_total=Count("designations"))
        .filter(illustrative__gt=0)
        .order_by("year", "sequence", "pk")
    )


def recent_imports(user: AbstractUser | AnonymousUser, limit: int = 20) -> list[ImportRecord]:
    """The latest imports whose file name and reason `user` may see (`WriteScope.sees_staff_data`)."""
    seen = write_scope(user).staff_data_q("province_id")
    if seen is None:
        return []
    return list(ImportRecord.objects.filter(seen).select_related("user").order_by("-created_at", "-pk")[:limit])
