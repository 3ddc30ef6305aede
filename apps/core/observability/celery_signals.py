"""Celery signal receivers: task outcome counters, and tracing in each worker process."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import task_failure, task_retry, task_success, worker_process_init

from apps.core.observability.metrics import record_task_outcome


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


def connect_celery_signals(app: Celery | None = None) -> None:
    """Idempotent. ``app`` is accepted for symmetry with Celery's own hooks; the receivers are
    global, so tasks executed eagerly in a web process are counted too."""
    task_success.connect(_on_success, weak=False, dispatch_uid="observability-task-success")
    task_failure.connect(_on_failure, weak=False, dispatch_uid="observability-task-failure")
    task_retry.connect(_on_retry, weak=False, dispatch_uid="observability-task-retry")
    worker_process_init.connect(
        _on_worker_process_init, weak=False, dispatch_uid="observability-worker-tracing"
    )
