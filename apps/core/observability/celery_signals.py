"""Celery signal receivers: task outcome counters, tracing in each worker process, and an
optional metrics listener for a worker that shares no directory with the web app.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import (
    task_failure,
    task_retry,
    task_success,
    worker_process_init,
    worker_ready,
)

from apps.core.observability.metrics import record_task_outcome, registry_for_exposition

logger = logging.getLogger("apps.core.observability")
_worker_server: dict[str, Any] = {}


def _task_name(sender: Any) -> str:
    return str(getattr(sender, "name", None) or "unknown")


def _on_success(sender: Any = None, **_: Any) -> None:
    record_task_outcome(task_name=_task_name(sender), outcome="succeeded")


def _on_failure(sender: Any = None, **_: Any) -> None:
    record_task_outcome(task_name=_task_name(sender), outcome="failed")


def _on_retry(sender: Any = None, **_: Any) -> None:
    record_task_outcome(task_name=_task_name(sender), outcome="retried")


def _on_worker_process_init(**_: Any) -> None:
    # After the fork: the span exporter's background thread must belong to the child.
    from apps.core.observability.tracing import configure_tracing

    configure_tracing()


def start_worker_metrics_server(port: int, addr: str = "127.0.0.1") -> Any:
    """Serves the worker's metrics (``CELERY_METRICS_PORT``) from the worker's main process.

    Task outcomes are recorded in the pool's child processes, so with the prefork pool this
    needs ``PROMETHEUS_MULTIPROC_DIR`` (the children write there, the listener adds them up).
    The listener has no access control: bind it to loopback or a private network only.
    Returns the HTTP server (``server.server_port``, ``server.shutdown()``).
    """
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=addr, registry=registry_for_exposition())
    return server


def _on_worker_ready(**_: Any) -> None:
    port = os.environ.get("CELERY_METRICS_PORT")
    if not port:
        return
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        logger.warning(
            "CELERY_METRICS_PORT without PROMETHEUS_MULTIPROC_DIR: tasks run in pool processes "
            "and their counts will not be visible"
        )
    # Loopback unless told otherwise (in a container, CELERY_METRICS_ADDR=0.0.0.0 on a
    # private network).
    _worker_server["server"] = start_worker_metrics_server(
        int(port), os.environ.get("CELERY_METRICS_ADDR", "127.0.0.1")
    )


def connect_celery_signals(app: Celery | None = None) -> None:
    """Idempotent. ``app`` is accepted for symmetry with Celery's own hooks; the receivers are
    global, so tasks executed eagerly in a web process are counted too."""
    task_success.connect(_on_success, weak=False, dispatch_uid="observability-task-success")
    task_failure.connect(_on_failure, weak=False, dispatch_uid="observability-task-failure")
    task_retry.connect(_on_retry, weak=False, dispatch_uid="observability-task-retry")
    worker_process_init.connect(
        _on_worker_process_init, weak=False, dispatch_uid="observability-worker-tracing"
    )
    worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid="observability-worker-metrics")
