from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CountiesConfig(AppConfig):
    name = "counties"
    verbose_name = _("Demonstration counties")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from counties.writes.roles import ensure_roles

        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="counties-roles")
        from counties.api import schema  # noqa: F401  (registers the OpenAPI extensions)
        from counties.reads import sql  # noqa: F401  (registers the in_ids lookup)


class RegistryAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the registry's site (its index order, change log and dashboard).
    Named in INSTALLED_APPS in place of django.contrib.admin; not this module's default config."""

    default = False

    default_site = "counties.admin.site.RegistryAdminSite"

    def ready(self) -> None:
        super().ready()  # every other app's admin module
        from counties.admin import programme, staff, targets  # noqa: F401  (each registers its models)
