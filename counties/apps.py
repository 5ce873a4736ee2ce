from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CountiesConfig(AppConfig):
    name = "counties"
    verbose_name = _("Demonstration counties")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
        from .api import schema  # noqa: F401  (registers the OpenAPI extensions)
