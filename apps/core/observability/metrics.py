"""Prometheus metrics for operators (exposed by ``views.metrics_view`` at ``GET /metrics``).

Labels are bounded by construction: a request is labelled by its resolved route pattern
(``api/v1/questions/<int:pk>``), never by its raw path; the method by a fixed set; the status by
its class (``2xx``). Celery tasks are labelled by their registered name.

Web and worker processes are separate. With ``PROMETHEUS_MULTIPROC_DIR`` set (a directory
shared by every process on the host, emptied before they start), prometheus_client writes each
process's values there and the endpoint adds them up, so one scrape of the web app also shows the
Celery workers' task counts. Without it each process keeps its own values in memory.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

# Fast requests are the norm here (a cached dashboard is well under a millisecond), so the
# buckets start low.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "openmrcs_http_request_duration_seconds",
    "Time spent serving an HTTP request, by route pattern, method and status class.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
REQUESTS_IN_PROGRESS = Gauge(
    "openmrcs_http_requests_in_progress",
    "HTTP requests being served right now.",
    multiprocess_mode="livesum",
)
CELERY_TASKS = Counter(
    "openmrcs_celery_tasks",
    "Celery task executions by task name and outcome (succeeded, failed, retried).",
    ["task", "outcome"],
)
CACHE_LOOKUPS = Counter(
    "openmrcs_cache_lookups",
    "Cache lookups by cache name and result (hit or miss).",
    ["cache", "result"],
)

UNMATCHED_ROUTE = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(request: HttpRequest) -> str:
    """The resolved URL pattern (bounded), or ``<unmatched>`` when nothing was routed."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED_ROUTE
    return match.route or match.view_name or UNMATCHED_ROUTE


def record_request(*, route: str, method: str, status_code: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(
        route, method if method in _METHODS else "other", f"{status_code // 100}xx"
    ).observe(seconds)


def record_task_outcome(*, task_name: str, outcome: str) -> None:
    """``outcome`` is one of ``succeeded``, ``failed``, ``retried``."""
    CELERY_TASKS.labels(task_name, outcome).inc()


def record_cache_lookup(*, cache_name: str, hit: bool) -> None:
    """For callers that cache a computed view (e.g. the dashboard): counts hits and misses."""
    CACHE_LOOKUPS.labels(cache_name, "hit" if hit else "miss").inc()


def registry_for_exposition() -> CollectorRegistry:
    """This process's registry; in multiprocess mode one that sums every process's files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition() -> bytes:
    """The text exposition of every metric; summed over processes in multiprocess mode."""
    return generate_latest(registry_for_exposition())
