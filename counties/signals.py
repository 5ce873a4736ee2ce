"""Keep derived data in step with the records it is derived from, whichever door changed them."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Unit, UnitSuccession
from .services import rebuild_lineage


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
