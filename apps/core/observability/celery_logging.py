"""Celery's worker and beat log like the web process: one JSON line per record through the
settings' ``LOGGING``, with the task's id and name.

Left alone, a starting worker or beat replaces the root logger's handlers with plain-text ones of
its own (and its Django fix-up has applied ``LOGGING`` just before). A receiver of
``setup_logging`` tells Celery that logging is taken care of: ours applies ``LOGGING`` (the JSON
handler, whose ``TaskContextFilter`` adds ``task_id`` and ``task_name`` to every record logged
while a task runs, Celery's own "Task ... succeeded" included) at the level of ``--loglevel``.
Beat runs no task: it says which task it sent, with the id the message was given, in a record
of its own.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

from celery.signals import after_task_publish, beat_init, setup_logging

logger = logging.getLogger("apps.core.observability.beat")


def configure_logging(loglevel: int | str | None = None, **_: Any) -> None:
    """Applies the settings' ``LOGGING``; a ``--loglevel`` given to the command sets the root
    logger's level (``LOG_LEVEL`` otherwise)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


def log_task_sent(
    sender: str | None = None, headers: dict[str, Any] | None = None, **_: Any
) -> None:
    """One INFO record per task beat publishes, naming the task and its id (message protocol 2
    carries both in the headers)."""
    headers = headers or {}
    logger.info(
        "task sent",
        extra={"task_id": headers.get("id"), "task_name": headers.get("task") or sender},
    )


def _on_beat_init(**_: Any) -> None:
    # Only in beat: a web process or a worker publishing a task logs nothing extra.
    after_task_publish.connect(log_task_sent, weak=False, dispatch_uid="beat-log-task-sent")


def connect_celery_logging() -> None:
    """Idempotent; called where the Celery app is made (config/celery.py)."""
    setup_logging.connect(configure_logging, weak=False, dispatch_uid="openmrcs-setup-logging")
    beat_init.connect(_on_beat_init, weak=False, dispatch_uid="openmrcs-beat-log-task-sent")
