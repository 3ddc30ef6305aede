"""One exception handler: every error leaves the API as the envelope of api-contract.md.

``{"code": "<machine_code>", "message": "<human text>", "fields": {...}}``, where ``fields``
appears only for validation errors. Unhandled exceptions become a JSON 500 without a traceback.

A client fault is never a 500: Django's ``SuspiciousOperation`` family (a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413, too many form fields or files a 400) is mapped here,
once, and logged as a WARNING; the parsers of ``apps.core.api.parsers`` turn a body nested too
deep for the JSON decoder into a ``ParseError`` (400).

Every validation error has the same top-level ``message``; ``fields`` names each field with its
messages, all fields at once.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_simplejwt.exceptions import InvalidToken

from apps.core.exceptions import DomainError, ValidationFailed
from apps.core.request_context import user_id_var

logger = logging.getLogger("apps.core.errors")
# Refused access (ASVS 16.3.2): one WARNING line per 401/403, and per 404 on a route that names an
# object (ownership is enforced by scoping, so another user's id is a 404).
security_logger = logging.getLogger("apps.core.security")

_DRF_CODES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


# The one top-level message of every validation error: the details are in ``fields``.
VALIDATION_MESSAGE = ValidationFailed.default_message


def envelope(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
        if code == "validation_error":
            # One message for every validation error (the first field's text used to stand
            # here, and domain errors had their own): clients show ``fields`` beside each input.
            body["message"] = VALIDATION_MESSAGE
    return body


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turns DRF's nested error detail into ``{"field": ["msg", ...]}`` with dotted paths."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and not prefix:
                name = "non_field_errors"
            out.update(_flatten_fields(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                out.update(_flatten_fields(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _token_message(exc: InvalidToken) -> str:
    """What is wrong with the bearer token, in words, without simplejwt's internals."""
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    reasons = [str(m.get("message", "")) for m in detail.get("messages", []) if isinstance(m, dict)]
    if any("expired" in reason.lower() for reason in reasons):
        return "The access token has expired. Get a new one from /auth/refresh."
    return "The access token is not valid. Log in again."


def _suspicious_operation(exc: SuspiciousOperation) -> Response:
    """A request Django refused as malformed or too large: always the client's fault."""
    status_code: int
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        code, status_code = "payload_too_large", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        message = f"The request body is larger than {limit} bytes."
    elif isinstance(exc, TooManyFieldsSent):
        code, status_code = "too_many_fields", status.HTTP_400_BAD_REQUEST
        message = f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields."
    elif isinstance(exc, TooManyFilesSent):
        code, status_code = "too_many_files", status.HTTP_400_BAD_REQUEST
        message = f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
    else:
        code, status_code = "bad_request", status.HTTP_400_BAD_REQUEST
        message = "The request could not be understood."
    # Django logs these at ERROR on ``django.security.*`` when they escape a view; a client can
    # send them at will, so here they are a WARNING (without the body).
    security_logger.warning(
        "suspicious request refused",
        extra={
            "event": "suspicious_request",
            "status": status_code,
            "code": code,
            "kind": type(exc).__name__,
        },
    )
    return Response(envelope(code, message), status=status_code)


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = _handle_exception(exc, context)
    if response is not None:
        log_refusal(response, context)
    return response


def _caller_id(request: Any) -> int | None:
    """The authenticated caller's id, without triggering authentication again."""
    user_id = user_id_var.get()
    if user_id is not None:
        return user_id
    user = getattr(request, "_user", None)  # set by DRF once authentication has run
    if user is not None and getattr(user, "is_authenticated", False):
        return int(user.pk)
    return None


def log_refusal(response: Response, context: dict[str, Any]) -> None:
    """Logs a refused request: status, error code, method, path and caller id.

    Never the query string, headers or body, so no credential can reach the log; the request id
    is added by the logging filter.
    """
    status_code = response.status_code
    object_route = bool(context.get("kwargs"))
    if status_code not in (401, 403) and not (status_code == 404 and object_route):
        return
    request = context.get("request")
    data = response.data if isinstance(response.data, dict) else {}
    user_id = _caller_id(request)
    view = context.get("view")
    # The logging filter copies user_id from the request context; make it hold the caller.
    previous = user_id_var.set(user_id)
    try:
        security_logger.warning(
            "access refused",
            extra={
                "event": "access_refused",
                "status": status_code,
                "code": str(data.get("code", "")),
                "method": getattr(request, "method", None),
                "path": getattr(request, "path", None),
                "view": type(view).__name__ if view is not None else None,
                "user_id": user_id,
            },
        )
    finally:
        user_id_var.reset(previous)


def _handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        retry_after = getattr(exc, "retry_after", None)
        return Response(
            envelope(exc.code, exc.message, exc.fields),
            status=exc.status_code,
            headers={"Retry-After": str(retry_after)} if retry_after else None,
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable", exc_info=exc)
        return Response(
            envelope("service_unavailable", "The database is temporarily unavailable."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, SuspiciousOperation):
        return _suspicious_operation(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        if isinstance(exc, DatabaseError):
            logger.exception("database error", exc_info=exc)
        else:
            logger.exception("unhandled exception", exc_info=exc)
        return Response(
            envelope("server_error", "An unexpected error occurred."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    assert isinstance(exc, exceptions.APIException)  # nosec B101 # type narrowing
    code = next((c for klass, c in _DRF_CODES.items() if isinstance(exc, klass)), None)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        response.data = envelope("validation_error", VALIDATION_MESSAGE, fields)
        return response
    detail = exc.detail
    if isinstance(detail, dict) and "detail" in detail:
        # simplejwt's shape, ``{"detail", "code", "messages"?}``: its code says what happened
        # (``token_not_valid``, ``session_ended``, ``bad_authorization_header``).
        code = str(detail.get("code") or code or exc.default_code)
        message = _token_message(exc) if isinstance(exc, InvalidToken) else str(detail["detail"])
    elif isinstance(detail, (dict, list)):
        message = "The request could not be processed."
    else:
        message = str(detail)
    if code is None:
        code = getattr(detail, "code", None) or exc.default_code
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        response["Retry-After"] = str(int(wait) + 1)
    response.data = envelope(str(code), message)
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return JsonResponse(envelope("not_found", "Not found."), status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 (a ``SuspiciousOperation`` raised outside an API view, e.g. a bad Host)."""
    return JsonResponse(envelope("bad_request", "The request could not be understood."), status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    return JsonResponse(envelope("server_error", "An unexpected error occurred."), status=500)
