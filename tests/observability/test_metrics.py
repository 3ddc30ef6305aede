"""Prometheus: per-route latency with bounded labels, the in-flight gauge, Celery task outcomes,
cache lookups, the protected /metrics endpoint and multiprocess aggregation."""

from __future__ import annotations

import socket
import textwrap
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery.signals import worker_ready
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from prometheus_client import REGISTRY

from apps.core.observability import celery_signals
from apps.core.observability.gunicorn_hooks import child_exit
from apps.core.observability.metrics import (
    UNMATCHED_ROUTE,
    record_cache_lookup,
    record_task_outcome,
)
from apps.core.observability.middleware import PrometheusMiddleware
from config.celery import app as celery_app
from tests.observability.conftest import run_python

LATENCY_COUNT = "openmrcs_http_request_duration_seconds_count"
GAUGE = "openmrcs_http_requests_in_progress"


def latency_count(route: str, method: str, status: str) -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value(LATENCY_COUNT, labels) or 0.0


def task_count(task: str, outcome: str) -> float:
    labels = {"task": task, "outcome": outcome}
    return REGISTRY.get_sample_value("openmrcs_celery_tasks_total", labels) or 0.0


def in_progress() -> float:
    return REGISTRY.get_sample_value("openmrcs_http_requests_in_progress") or 0.0


# --- request latency ----------------------------------------------------------------------------


def test_a_request_is_observed_once_under_its_route_pattern() -> None:
    before = latency_count("api/v1/health/live", "GET", "2xx")
    response = Client().get("/api/v1/health/live")
    assert response.status_code == 200
    assert latency_count("api/v1/health/live", "GET", "2xx") == before + 1


@pytest.mark.django_db
def test_path_parameters_never_become_labels() -> None:
    route = "api/v1/exams/sessions/<int:session_id>"
    before = latency_count(route, "GET", "4xx")
    for session_id in (987654321, 987654322):
        assert Client().get(f"/api/v1/exams/sessions/{session_id}").status_code == 401
    assert latency_count(route, "GET", "4xx") == before + 2
    exposition = Client().get("/metrics").content.decode()
    assert "987654321" not in exposition
    assert "987654322" not in exposition


def test_unrouted_paths_share_one_label() -> None:
    before = latency_count(UNMATCHED_ROUTE, "GET", "4xx")
    Client().get("/no/such/page-123")
    Client().get("/api/v1/nothing-here/456")
    assert latency_count(UNMATCHED_ROUTE, "GET", "4xx") == before + 2
    exposition = Client().get("/metrics").content.decode()
    assert "page-123" not in exposition
    assert "nothing-here" not in exposition


def test_unknown_methods_are_bucketed() -> None:
    before = latency_count("api/v1/health/live", "other", "4xx")
    response = Client().generic("PROPFIND", "/api/v1/health/live")
    assert response.status_code == 405
    assert latency_count("api/v1/health/live", "other", "4xx") == before + 1


def test_the_in_flight_gauge_counts_the_request_while_it_runs() -> None:
    seen: list[float] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(in_progress())
        return HttpResponse(status=204)

    before = in_progress()
    PrometheusMiddleware(view)(RequestFactory().get("/x"))
    assert seen == [before + 1]
    assert in_progress() == before


def test_a_request_that_raises_is_recorded_as_5xx_and_leaves_the_gauge() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("boom")

    before_gauge = in_progress()
    before = latency_count(UNMATCHED_ROUTE, "POST", "5xx")
    with pytest.raises(RuntimeError):
        PrometheusMiddleware(view)(RequestFactory().post("/x"))
    assert in_progress() == before_gauge
    assert latency_count(UNMATCHED_ROUTE, "POST", "5xx") == before + 1


# --- the endpoint -------------------------------------------------------------------------------


def test_metrics_are_served_to_an_allowed_address() -> None:
    Client().get("/api/v1/health/live")
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "openmrcs_http_request_duration_seconds_bucket{" in body
    assert 'route="api/v1/health/live"' in body
    assert "openmrcs_http_requests_in_progress" in body


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_reads_are_answered(method: str) -> None:
    assert getattr(Client(), method)("/metrics").status_code == 404


def test_other_addresses_get_a_plain_not_found() -> None:
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert b"openmrcs_" not in response.content


def test_allowed_ranges_may_be_cidr(settings: Any) -> None:
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.20.30.40").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404


def test_a_bearer_token_lets_a_remote_scraper_in(settings: Any) -> None:
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    remote = Client(REMOTE_ADDR="203.0.113.9")

    def status(authorization: str | None) -> int:
        extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
        return remote.get("/metrics", **extra).status_code

    assert status("Bearer s3cret-scrape-token") == 200
    assert status("bearer s3cret-scrape-token") == 200
    assert status("Bearer wrong") == 404
    assert status("Basic s3cret-scrape-token") == 404
    assert status(None) == 404


def test_no_token_configured_means_no_token_accepted(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404


def test_the_endpoint_stays_out_of_the_api_schema() -> None:
    response = Client().get("/api/v1/schema", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert paths  # the schema is real
    assert not [path for path in paths if "metrics" in path]


# --- Celery -------------------------------------------------------------------------------------


@celery_app.task(name="tests.observability.succeeds")
def succeeds() -> str:
    return "ok"


@celery_app.task(name="tests.observability.fails")
def fails() -> None:
    raise ValueError("task failed")


@celery_app.task(bind=True, name="tests.observability.retries_once", max_retries=1)
def retries_once(self: Any) -> str:
    if self.request.retries == 0:
        raise self.retry(countdown=0)
    return "second time lucky"


@pytest.fixture
def errors_handled_like_a_worker() -> Any:
    """Eager execution that propagates errors skips Celery's failure and retry handling (and
    their signals); a worker never propagates, so neither do these tests."""
    propagates = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = propagates


@pytest.mark.usefixtures("errors_handled_like_a_worker")
def test_task_outcomes_are_counted_per_task_name() -> None:
    ok_before = task_count("tests.observability.succeeds", "succeeded")
    failed_before = task_count("tests.observability.fails", "failed")

    assert succeeds.delay().get() == "ok"
    succeeds.delay()
    assert fails.delay().failed()

    assert task_count("tests.observability.succeeds", "succeeded") == ok_before + 2
    assert task_count("tests.observability.succeeds", "failed") == 0
    assert task_count("tests.observability.fails", "failed") == failed_before + 1
    assert task_count("tests.observability.fails", "succeeded") == 0


@pytest.mark.usefixtures("errors_handled_like_a_worker")
def test_a_retry_is_counted() -> None:
    name = "tests.observability.retries_once"
    retried, succeeded = task_count(name, "retried"), task_count(name, "succeeded")
    retries_once.delay()
    assert task_count(name, "retried") == retried + 1
    assert task_count(name, "succeeded") == succeeded + 1


# --- cache lookups ------------------------------------------------------------------------------


def test_cache_lookups_are_counted_by_result() -> None:
    def count(result: str) -> float:
        labels = {"cache": "test-cache", "result": result}
        return REGISTRY.get_sample_value("openmrcs_cache_lookups_total", labels) or 0.0

    hits, misses = count("hit"), count("miss")
    record_cache_lookup(cache_name="test-cache", hit=True)
    record_cache_lookup(cache_name="test-cache", hit=False)
    record_cache_lookup(cache_name="test-cache", hit=False)
    assert (count("hit"), count("miss")) == (hits + 1, misses + 2)


# --- several processes --------------------------------------------------------------------------


def test_multiprocess_mode_adds_up_what_worker_processes_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker process records task outcomes into PROMETHEUS_MULTIPROC_DIR; the web process's
    endpoint, pointed at the same directory, reports their sum."""
    worker = textwrap.dedent(
        """
        from apps.core.observability.metrics import record_task_outcome
        for _ in range(3):
            record_task_outcome(task_name="tests.observability.elsewhere", outcome="succeeded")
        """
    )
    for _ in range(2):
        result = run_python(worker, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
        assert result.returncode == 0, result.stderr
    assert list(tmp_path.glob("*.db"))

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    body = Client().get("/metrics").content.decode()
    line = 'openmrcs_celery_tasks_total{outcome="succeeded",task="tests.observability.elsewhere"}'
    assert f"{line} 6.0" in body


def test_a_dead_gunicorn_worker_stops_counting_as_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A web worker that dies mid-request leaves its in-flight gauge behind; the child_exit
    hook removes it from the sum."""
    dying = textwrap.dedent(
        """
        import os
        from apps.core.observability.metrics import REQUESTS_IN_PROGRESS
        REQUESTS_IN_PROGRESS.inc()
        print(os.getpid())
        """
    )
    result = run_python(dying, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    pid = int(result.stdout.strip().splitlines()[-1])
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    def in_flight() -> float:
        body = Client().get("/metrics").content.decode()
        values = [line.split()[1] for line in body.splitlines() if line.startswith(GAUGE + " ")]
        return sum(float(value) for value in values)

    assert in_flight() == 1.0
    child_exit(server=None, worker=SimpleNamespace(pid=pid))
    assert in_flight() == 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_worker_can_serve_its_own_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    """CELERY_METRICS_PORT: the worker's main process listens once the worker is ready."""
    port = free_port()
    monkeypatch.setenv("CELERY_METRICS_PORT", str(port))
    record_task_outcome(task_name="tests.observability.in-worker", outcome="failed")
    worker_ready.send(sender=None)
    server = celery_signals._worker_server.pop("server")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            body = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert (
        'openmrcs_celery_tasks_total{outcome="failed",task="tests.observability.in-worker"}' in body
    )


def test_no_worker_listener_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CELERY_METRICS_PORT", raising=False)
    worker_ready.send(sender=None)
    assert "server" not in celery_signals._worker_server
