from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CountiesConfig(AppConfig):
    name = "counties"
    verbose_name = _("Demonstration counties")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import ensure_roles

        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="counties-roles")
        from .api import schema  # noqa: F401  (registers the OpenAPI extensions)
