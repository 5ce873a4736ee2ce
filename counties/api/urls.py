from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from counties.api import root
from counties.api.exceptions import not_found
from counties.api.views import changes, data, records, statistics, targets

app_name = "api"

router = SimpleRouter()
router.register("counties", records.UnitViewSet, basename="county")
router.register("provinces", records.ProvinceViewSet, basename="province")
router.register("batches", records.BatchViewSet, basename="batch")
router.register("designations", records.DesignationViewSet, basename="designation")
router.register("funding-allocations", records.FundingAllocationViewSet, basename="funding-allocation")
router.register("poverty-statuses", records.PovertyStatusViewSet, basename="poverty-status")
# Targets and results.
router.register("indicators", targets.IndicatorViewSet, basename="indicator")
router.register("indicator-values", targets.IndicatorValueViewSet, basename="indicator-value")
router.register("assessments", targets.AssessmentViewSet, basename="assessment")
router.register("pairings", targets.PairingViewSet, basename="pairing")

urlpatterns = [
    path("", root.ApiRootView.as_view(), name="root"),
    path("stats/coverage/", statistics.CoverageView.as_view(), name="stats-coverage"),
    path("stats/coverage/series/", statistics.CoverageSeriesView.as_view(), name="stats-coverage-series"),
    path("stats/batches/", statistics.BatchStatisticsView.as_view(), name="stats-batches"),
    path("stats/provinces/", statistics.ProvinceStatisticsView.as_view(), name="stats-provinces"),
    path("stats/funding/", statistics.FundingStatisticsView.as_view(), name="stats-funding"),
    path("stats/exits/", statistics.ExitStatisticsView.as_view(), name="stats-exits"),
    # Targets and results.
    re_path(r"^counties/(?P<key>[0-9X][0-9]{5,6})/targets/$", targets.CountyTargetsView.as_view(), name="county-targets"),
    path("stats/three-coverages/", targets.ThreeCoveragesView.as_view(), name="stats-three-coverages"),
    path("stats/three-coverages/series/", targets.ThreeCoveragesSeriesView.as_view(), name="stats-three-coverages-series"),
    path("stats/service-system/", targets.ServiceSystemView.as_view(), name="stats-service-system"),
    path("stats/targets/", targets.TargetAttainmentView.as_view(), name="stats-targets"),
    path("stats/notice-targets/", targets.NoticeAttainmentView.as_view(), name="stats-notice-targets"),
    path("stats/assessments/", targets.AssessmentStatisticsView.as_view(), name="stats-assessments"),
    path("stats/national-series/", targets.NationalSeriesView.as_view(), name="stats-national-series"),
    path("changes/", changes.ChangeFeedView.as_view(), name="changes"),
    path("data/", data.DataPackageView.as_view(), name="data-package"),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    # The split view serves Swagger UI's set-up script as a file (?script=), not inline: see the CSP.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    *router.urls,
    re_path(r"^.*$", not_found),
]
