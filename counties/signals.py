"""Keep derived data in step with the records it is derived from, whichever door changed them."""

from typing import Any

from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import (
    Batch,
    Designation,
    FundingAllocation,
    PovertyStatus,
    Prefecture,
    Province,
    PublishedProvinceCount,
    Unit,
    UnitSuccession,
)
from .services import mark_data_changed, rebuild_lineage

# Every model a statistic reads. Bulk writes (the loaders) send no signals and call
# mark_data_changed() themselves.
STATISTICS_SOURCES = (
    Province,
    Prefecture,
    Unit,
    UnitSuccession,
    PovertyStatus,
    Batch,
    Designation,
    FundingAllocation,
    PublishedProvinceCount,
)


@receiver(post_save, sender=Unit)
def unit_saved(sender: type[Unit], instance: Unit, created: bool, raw: bool = False, **kwargs: Any) -> None:
    # A new unit needs its own lineage row and current pointer; edits to a unit change neither.
    if created and not raw:
        rebuild_lineage()


@receiver(post_save, sender=UnitSuccession)
@receiver(post_delete, sender=UnitSuccession)
def succession_changed(sender: type[UnitSuccession], raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        rebuild_lineage()


def data_changed(sender: type[Model], raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        mark_data_changed()


for model in STATISTICS_SOURCES:
    post_save.connect(data_changed, sender=model, dispatch_uid=f"statistics-{model.__name__}-save")
    post_delete.connect(data_changed, sender=model, dispatch_uid=f"statistics-{model.__name__}-delete")
