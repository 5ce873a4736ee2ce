"""Every API error is JSON: {"error": {"code", "message", "fields"?}}."""

from typing import Any

from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        return _first_message(detail["detail"])
    if isinstance(detail, dict):
        for field, value in detail.items():
            return f"{field}: {_first_message(value)}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ProtectedError | RestrictedError):
        # Deleting a record other records still point to (a designation with funding): the
        # database refuses it, and the client can fix that, so it is a 409 that names them.
        blocking = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        names = "; ".join(str(record) for record in list(blocking)[:5])
        exc = Conflict(
            _("This record cannot be deleted while other records refer to it: %(records)s. Change or delete those first.")
            % {"records": names}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        if isinstance(codes, str):
            code = codes
    elif isinstance(exc, Http404):
        code = "not_found"
    message = _first_message(response.data)
    if isinstance(exc, exceptions.Throttled):
        # DRF joins its two sentences with a space, which Chinese does not put after "。".
        message = message.replace("。 ", "。")
    if isinstance(exc, Http404):
        # Django's "No Unit matches the given query." names a class and is in English: every
        # missing record gets one message, in the client's language.
        message = _("No record at %(path)s.") % {"path": context["request"].path}
    body: dict[str, Any] = {"code": code, "message": message}
    if isinstance(exc, exceptions.ValidationError) or response.status_code == status.HTTP_400_BAD_REQUEST:
        body["code"] = "invalid"
        body["fields"] = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
    response.data = {"error": body}
    return response


def error_response(code: str, message: str, status: int) -> JsonResponse:
    """An error in the API's format, for answers given outside DRF (middleware, error handlers)."""
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return error_response("not_found", _("No such API endpoint: %(path)s") % {"path": request.path}, 404)
