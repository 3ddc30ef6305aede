"""Request latency and in-flight requests, measured around the whole middleware stack."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core.observability.metrics import REQUESTS_IN_PROGRESS, record_request, route_label


class PrometheusMiddleware:
    """Outermost middleware: one histogram observation per request, plus the in-flight gauge."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        REQUESTS_IN_PROGRESS.inc()
        status_code = 500
        try:
            response = self.get_response(request)
            status_code = response.status_code
            return response
        finally:
            REQUESTS_IN_PROGRESS.dec()
            record_request(
                route=route_label(request),
                method=request.method or "",
                status_code=status_code,
                seconds=time.perf_counter() - started,
            )
