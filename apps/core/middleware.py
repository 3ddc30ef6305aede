"""Request id, API path normalisation and a few protocol-level refusals."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.request_context import request_id_var, user_id_var

logger = logging.getLogger("apps.core.requests")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


class RequestIdMiddleware:
    """Honours a well-formed ``X-Request-ID`` or makes one; echoes it and logs each request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)
            user_id_var.reset(user_token)


class ApiHardeningMiddleware:
    """API-wide rules that belong before routing.

    - ``/api/...`` paths are routed without their trailing slash, so both spellings work.
    - TRACE is refused.
    - Personal API responses are never stored by shared caches or the browser.
    - Tokens are never accepted in the query string.
    (Errors under ``/api/`` are made JSON by :class:`ApiJsonErrorsMiddleware`, near the top of
    the stack, so that faults raised by the middleware before this one are covered too.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"TRACE", "TRACK"}:
            return JsonResponse(
                {"code": "method_not_allowed", "message": "Method not allowed."}, status=405
            )
        is_api = request.path_info.startswith("/api/")
        if is_api and len(request.path_info) > 1 and request.path_info.endswith("/"):
            request.path_info = request.path_info.rstrip("/") or "/"
        if (
            is_api
            and any(k in request.GET for k in _TOKEN_QUERY_KEYS)
            and request.path_info not in _TOKEN_QUERY_ALLOWED
        ):
            return JsonResponse(
                {
                    "code": "token_in_url",
                    "message": "Tokens are accepted only in the Authorization header.",
                },
                status=400,
            )
        response = self.get_response(request)
        if is_api and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response


class ApiJsonErrorsMiddleware:
    """Every error under ``/api/`` is the JSON envelope, whoever made it: Django's HTML pages
    (with DEBUG, the page listing every URL pattern or a traceback; the CSRF and 400 pages; a
    refused ``Host`` header, which ``CommonMiddleware`` raises before the view) are replaced.
    It sits near the top of ``MIDDLEWARE`` so that it also sees what the middleware below it
    turned into a response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path_info.startswith("/api/")
            and not _is_json(response)
        ):
            response = _json_error(response)
        return response


# --- Content-Security-Policy (ASVS 3.4.3, 3.4.6) -------------------------------------------------
# Anything that is not an HTML page (the JSON API, files, scripts): nothing may load, nothing may
# frame it, no <base>, no form target.
CSP_NON_HTML = (
    "default-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
# HTML pages (Django Admin, the Swagger UI at /api/docs): every script, style, image and font comes
# from our own origin (Swagger UI is served from drf-spectacular-sidecar's static files and its
# init script is a separate file, so no inline or CDN script is allowed). ``style-src`` keeps
# 'unsafe-inline' for styles only: the admin change list and the Swagger page carry a small
# <style> block and Swagger UI sets style attributes; styles cannot run code.
CSP_HTML = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def content_security_policy(response: HttpResponse) -> str:
    """The policy for ``response``: the HTML one for HTML pages, the closed one for the rest."""
    content_type = response.get("Content-Type", "")
    return CSP_HTML if content_type.startswith("text/html") else CSP_NON_HTML


class ContentSecurityPolicyMiddleware:
    """Adds ``Content-Security-Policy`` to every response that does not set its own.

    Placed near the top of ``MIDDLEWARE`` so that answers made by later middleware (redirects,
    refusals, static files) carry it too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(response)
        return response


# Codes of the envelope for errors that Django answered itself (no API view ran).
_STATUS_CODES = {
    400: ("bad_request", "The request could not be understood."),
    403: ("permission_denied", "You do not have permission to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("payload_too_large", "The request body is too large."),
    500: ("server_error", "An unexpected error occurred."),
}
# Headers of the replaced response that still hold for the JSON one.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _is_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _json_error(response: HttpResponse) -> HttpResponse:
    """The envelope for an error response that is not JSON (the body is dropped: it is an HTML
    page meant for a browser, with DEBUG the URL patterns or a traceback)."""
    status = response.status_code
    code, message = _STATUS_CODES.get(
        status, ("server_error" if status >= 500 else "error", "The request failed.")
    )
    replaced = JsonResponse({"code": code, "message": message}, status=status)
    for header in _KEPT_HEADERS:
        if header in response:
            replaced[header] = response[header]
    return replaced


_TOKEN_QUERY_KEYS = ("access", "access_token", "refresh", "refresh_token", "token", "jwt")
# API paths (without trailing slash) that may legitimately take a ``token`` query parameter.
_TOKEN_QUERY_ALLOWED: set[str] = set()
