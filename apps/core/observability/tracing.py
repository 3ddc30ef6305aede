"""OpenTelemetry tracing for Django, psycopg, Redis and Celery, off unless configured.

Tracing is on only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces-only
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set and ``OTEL_SDK_DISABLED`` is not true. Otherwise
``configure_tracing`` returns after reading the environment and imports nothing.

The exporter speaks OTLP over HTTP and takes the standard ``OTEL_*`` variables (headers,
timeout, sampler: ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``). Call it once per
process, after any fork and before the WSGI handler is built: from ``config/wsgi.py`` and
``config/asgi.py`` for the web, from Celery's ``worker_process_init`` for workers.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_lock = threading.Lock()
_state: dict[str, Any] = {}


def tracing_enabled() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name) for name in _ENDPOINT_VARIABLES)


def configure_tracing(*, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Sets up the tracer provider and instruments Django, psycopg, Redis and Celery.

    Returns the provider, or None when tracing is off. Idempotent: a second call returns the
    provider of the first. ``exporter`` replaces the OTLP exporter (tests pass an in-memory one,
    which is then fed synchronously).
    """
    if not tracing_enabled():
        return None
    with _lock:
        if "provider" in _state:
            provider: TracerProvider = _state["provider"]
            return provider
        _state["provider"] = provider = _build_provider(exporter)
        _state["instrumentors"] = _instrument(provider)
        return provider


def shutdown_tracing() -> None:
    """Removes the instrumentation and flushes pending spans (process exit, tests)."""
    with _lock:
        for instrumentor in _state.pop("instrumentors", []):
            instrumentor.uninstrument()
        provider = _state.pop("provider", None)
        if provider is not None:
            provider.shutdown()


def _build_provider(exporter: SpanExporter | None) -> TracerProvider:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create(
        {
            # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, take precedence.
            "service.name": os.environ.get("OTEL_SERVICE_NAME", "openmrcs"),
            "service.version": os.environ.get("RELEASE", "dev"),
            "deployment.environment": os.environ.get("ENVIRONMENT", "development"),
        }
    )
    provider = TracerProvider(resource=resource)
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    # The global provider can be set once per process; the instrumentors below are handed this
    # provider explicitly, so they use it even if something set a global one first.
    trace.set_tracer_provider(provider)
    return provider


def _instrument(provider: TracerProvider) -> list[Any]:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    instrumentors: list[Any] = []
    for instrumentor in (
        DjangoInstrumentor(),
        PsycopgInstrumentor(),
        RedisInstrumentor(),
        CeleryInstrumentor(),
    ):
        # Paths left out of tracing (health probes, the scrape) come from the standard
        # OTEL_PYTHON_DJANGO_EXCLUDED_URLS variable, read by the Django instrumentor itself.
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
            instrumentors.append(instrumentor)
    return instrumentors
