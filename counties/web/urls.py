from django.urls import path, re_path

from counties.caching.keys import reads_query
from counties.models import KEY_PATTERN
from counties.web import data_package, feeds, views

app_name = "counties"

urlpatterns = [
    path("", views.home, name="home"),
    path("counties/", views.county_list, name="county-list"),
    re_path(r"^counties/export\.(?P<file_format>csv|xlsx)$", views.county_export, name="county-export"),
    re_path(rf"^counties/(?P<key>{KEY_PATTERN})/$", views.county_detail, name="county"),
    path("provinces/", views.province_list, name="province-list"),
    re_path(r"^provinces/(?P<code>[0-9]{6})/$", views.province_detail, name="province"),
    path("batches/", views.batch_list, name="batch-list"),
    path("batches/<int:year>/", views.batch_detail, name="batch"),
    # A province's own batch: under its province, so it can never take a national batch's address.
    re_path(r"^batches/provinces/(?P<code>[0-9]{6})/(?P<year>[0-9]{4})/$", views.provincial_batch_detail, name="provincial-batch"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("changes/", views.change_list, name="changes"),
    path("changes/atom/", reads_query(*feeds.QUERY)(feeds.ChangeAtomFeed()), name="changes-atom"),
    path("data/", data_package.data_package, name="data-package"),
    re_path(
        r"^data/(?P<name>[A-Za-z0-9_-]{1,80})/(?P<filename>[A-Za-z0-9._-]{1,100})$",
        data_package.data_package_file,
        name="data-package-file",
    ),
]
