from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from counties.caching.keys import reads_query
from counties.web.sitemaps import SITEMAPS
from registry.handlers import healthz, readyz

handler400 = "registry.handlers.bad_request"
handler403 = "registry.handlers.permission_denied"
handler404 = "registry.handlers.page_not_found"
handler500 = "registry.handlers.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("counties.api.urls")),
    # Django's sitemap view reads its page from ?p=.
    path("sitemap.xml", reads_query("p")(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("counties.web.urls")),
    prefix_default_language=False,
)
