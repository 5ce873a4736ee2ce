from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from counties.sitemaps import SITEMAPS
from counties.views import healthz

handler400 = "counties.views.bad_request"
handler403 = "counties.views.permission_denied"
handler404 = "counties.views.page_not_found"
handler500 = "counties.views.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("counties.api.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("counties.urls")),
    prefix_default_language=False,
)
