"""OpenTelemetry: off (and not even imported) without an endpoint; with one, Django, psycopg,
Redis and Celery produce spans. Spans go to an in-memory exporter here, never to the network."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator

import psycopg
import pytest
from celery.signals import worker_process_init
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from apps.core.observability import tracing
from apps.core.observability.tracing import configure_tracing, shutdown_tracing
from config.celery import app as celery_app
from tests.observability.conftest import run_python

DUMMY_ENDPOINT = "http://127.0.0.1:9"  # nothing listens there; nothing is sent in these tests
OTEL_MIDDLEWARE = (
    "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware"
)


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", DUMMY_ENDPOINT)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    memory = InMemorySpanExporter()
    assert configure_tracing(exporter=memory) is not None
    yield memory
    shutdown_tracing()


@celery_app.task(name="tests.observability.traced")
def traced_task() -> int:
    return 42


def test_without_an_endpoint_nothing_is_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert configure_tracing(exporter=InMemorySpanExporter()) is None
    assert "provider" not in tracing._state
    assert OTEL_MIDDLEWARE not in settings.MIDDLEWARE


def test_the_sdk_kill_switch_wins_over_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", DUMMY_ENDPOINT)
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert configure_tracing(exporter=InMemorySpanExporter()) is None
    assert "provider" not in tracing._state


def test_an_unconfigured_process_loads_no_tracing_code() -> None:
    """The production entry points, started without an endpoint: no instrumentation module is
    imported, nothing is patched. (redis-py imports the OpenTelemetry metrics API on its own
    when it is installed; that is not tracing and is left out of the check.)"""
    code = textwrap.dedent(
        """
        import json, sys
        import config.wsgi, config.asgi
        import psycopg, redis
        from django.conf import settings
        loaded = sorted(
            m for m in sys.modules
            if m.startswith(("opentelemetry.instrumentation", "opentelemetry.sdk.trace",
                             "opentelemetry.exporter"))
        )
        print(json.dumps({
            "loaded": loaded,
            "otel_middleware": [m for m in settings.MIDDLEWARE if "opentelemetry" in m],
            "psycopg_patched": hasattr(psycopg.connect, "__wrapped__"),
            "redis_patched": hasattr(redis.Redis.execute_command, "__wrapped__"),
        }))
        """
    )
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="tracing-test-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {
        "loaded": [],
        "otel_middleware": [],
        "psycopg_patched": False,
        "redis_patched": False,
    }


def test_a_request_produces_a_server_span(exporter: InMemorySpanExporter) -> None:
    assert OTEL_MIDDLEWARE in settings.MIDDLEWARE
    response = Client().get("/api/v1/health/live")
    assert response.status_code == 200

    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert len(servers) == 1
    span = servers[0]
    assert span.name == "GET api/v1/health/live"
    assert span.attributes is not None
    assert span.attributes.get("http.route") == "api/v1/health/live"
    assert span.resource.attributes["service.name"] == "openmrcs"


def test_configuring_twice_instruments_once(exporter: InMemorySpanExporter) -> None:
    first = tracing._state["provider"]
    assert configure_tracing(exporter=InMemorySpanExporter()) is first
    Client().get("/api/v1/health/live")
    assert len([s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]) == 1


def test_shutting_down_removes_the_instrumentation(exporter: InMemorySpanExporter) -> None:
    shutdown_tracing()
    assert OTEL_MIDDLEWARE not in settings.MIDDLEWARE
    assert not hasattr(psycopg.connect, "__wrapped__")
    Client().get("/api/v1/health/live")
    assert exporter.get_finished_spans() == ()


@pytest.mark.django_db
def test_postgresql_statements_produce_client_spans(exporter: InMemorySpanExporter) -> None:
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        host=params["HOST"],
        port=params["PORT"] or None,
        password=params["PASSWORD"] or None,
    ) as raw:
        raw.execute("SELECT 1")

    spans = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert spans
    assert spans[-1].attributes is not None
    assert spans[-1].attributes.get("db.system") == "postgresql"
    assert "SELECT 1" in str(spans[-1].attributes.get("db.statement"))


def test_redis_commands_produce_client_spans(exporter: InMemorySpanExporter) -> None:
    cache.set("tracing-probe", 1, 5)
    assert cache.get("tracing-probe") == 1

    commands = [
        s.name
        for s in exporter.get_finished_spans()
        if s.attributes is not None and s.attributes.get("db.system") == "redis"
    ]
    assert "SET" in commands
    assert "GET" in commands


def test_celery_tasks_produce_spans(exporter: InMemorySpanExporter) -> None:
    assert traced_task.delay().get() == 42
    names = [s.name for s in exporter.get_finished_spans()]
    assert any("tests.observability.traced" in name for name in names), names


def test_each_worker_process_sets_up_tracing_after_the_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", DUMMY_ENDPOINT)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    assert "provider" not in tracing._state
    try:
        worker_process_init.send(sender="test-worker")
        assert "provider" in tracing._state
        assert OTEL_MIDDLEWARE in settings.MIDDLEWARE
    finally:
        shutdown_tracing()
    assert "provider" not in tracing._state


def test_trace_context_reaches_the_task_from_the_request(exporter: InMemorySpanExporter) -> None:
    """A task published while a span is active is traced as part of the same trace."""
    from opentelemetry import trace

    tracer = trace.get_tracer("tests")
    with tracer.start_as_current_span("outer") as outer:
        traced_task.delay()
    trace_ids = {
        s.context.trace_id
        for s in exporter.get_finished_spans()
        if s.context is not None and "tests.observability.traced" in s.name
    }
    assert trace_ids == {outer.get_span_context().trace_id}
