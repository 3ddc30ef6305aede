"""Handing work to Celery after the current transaction commits, without failing the request.

A task is published only once the rows it reads are committed. If the broker cannot be reached
the request still succeeds: the failure is logged and, where ``run_inline_on_failure`` is set
(short tasks such as one email), the task runs in-process instead.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger("apps.core.queue")

# One quick connection attempt: a request must not wait seconds for a broker that is down.
_FAIL_FAST = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(task: Task, *args: Any, run_inline_on_failure: bool = False) -> None:
    """Publishes ``task(*args)`` now, without retrying a broker that is down."""
    try:
        with task.app.connection_for_write(transport_options=_FAIL_FAST) as connection:
            task.apply_async(args=args, connection=connection, retry=False)
    except Exception:
        logger.warning("could not publish task", extra={"task": task.name}, exc_info=True)
        if run_inline_on_failure:
            try:
                task.apply(args=args)
            except Exception:
                logger.exception("task failed inline", extra={"task": task.name})


def enqueue_on_commit(task: Task, *args: Any, run_inline_on_failure: bool = False) -> None:
    """Publishes ``task(*args)`` once the current transaction (if any) commits."""
    transaction.on_commit(lambda: enqueue(task, *args, run_inline_on_failure=run_inline_on_failure))
