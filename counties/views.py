from django.db import DatabaseError, connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .models import Batch, Designation, DesignationStatus, PovertyStatus, SourceKind, Unit


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness in one: 200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "unit_count": Unit.objects.count(),
        "poverty_count": PovertyStatus.objects.count(),
        "batches": Batch.objects.annotate(
            recorded=Count("designations", filter=~Q(designations__status=DesignationStatus.WITHDRAWN)),
            illustrative=Count("designations", filter=Q(designations__source_kind=SourceKind.ILLUSTRATIVE)),
        ),
        "designation_count": Designation.objects.count(),
        "illustrative_count": Designation.objects.filter(source_kind=SourceKind.ILLUSTRATIVE).count(),
    }
    return render(request, "counties/home.html", context)
