from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from counties.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("counties.api.urls")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("counties.urls")),
    prefix_default_language=False,
)
