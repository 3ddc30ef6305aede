"""Publishing Celery tasks so that no job is lost and no request breaks when the broker is down.

The one way any app hands work to Celery. :func:`enqueue_after_commit` publishes once the
current transaction commits (so the worker finds the rows it needs). If the broker cannot be
reached the caller carries on: the task's name and arguments are written to the outbox, which
the periodic ``core.drain_outbox`` task publishes later. Arguments must therefore be
JSON-serialisable (ids, strings, numbers).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from apps.core.models import OutboxMessage

logger = logging.getLogger("apps.core.queue")

# What a publish raises when the broker is unreachable or refuses the message.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    KombuOperationalError,
    KombuError,
    RedisError,
    ConnectionError,
    TimeoutError,
    OSError,
)
# A drained message that still cannot be published waits this long, doubling, up to the cap.
OUTBOX_BACKOFF_BASE = timedelta(seconds=30)
OUTBOX_BACKOFF_CAP = timedelta(hours=1)


def publish(task_name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Publishes one task now, without the client's own retry loop (a down broker fails fast).

    A registered task goes through ``apply_async`` (so eager mode runs it inline, as in
    development); an unknown name is sent by name for a worker that knows it.
    """
    task = current_app.tasks.get(task_name)
    if task is None:  # another app's task module not imported in this process yet
        current_app.loader.import_default_modules()
        task = current_app.tasks.get(task_name)
    if task is not None:
        task.apply_async(args=tuple(args), kwargs=kwargs, retry=False)
    else:
        current_app.send_task(task_name, args=tuple(args), kwargs=kwargs, retry=False)


def publish_or_store(task_name: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """Publishes the task, or stores it in the outbox if the broker is unreachable.

    Returns True when published. Never raises for a broker failure.
    """
    try:
        publish(task_name, args, kwargs)
    except BROKER_ERRORS as exc:
        logger.warning(
            "broker unreachable, task kept in the outbox",
            extra={"task": task_name, "error": str(exc)},
        )
        OutboxMessage.objects.create(
            task_name=task_name, args=args, kwargs=kwargs, last_error=str(exc)[:2000]
        )
        return False
    return True


def enqueue_after_commit(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Publishes the task registered as ``task_name`` with ``(*args, **kwargs)`` after the
    current transaction commits.

    By name, never by the task object: a service enqueues the task that calls it back, so
    neither module imports the other (the ``tasks-by-name`` contract in pyproject.toml).
    Outside a transaction it publishes at once. A broker outage never reaches the caller: the
    task is kept in the outbox and published by ``core.drain_outbox``.
    """
    arg_list = list(args)
    transaction.on_commit(lambda: publish_or_store(task_name, arg_list, kwargs), robust=True)


def drain_outbox(*, limit: int = 500) -> dict[str, int]:
    """Publishes due outbox messages in id order; stops at the first broker failure.

    Rows are locked with SKIP LOCKED, so two drains running at once never publish the same row;
    a published row is deleted in the same transaction. A crash between publishing and the
    commit can publish a message twice, which the tasks tolerate (they are idempotent).
    """
    published = failed = 0
    now = timezone.now()
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .order_by("id")[:limit]
        )
        for message in due:
            try:
                publish(message.task_name, list(message.args), dict(message.kwargs))
            except BROKER_ERRORS as exc:
                failed += 1
                message.attempts += 1
                message.last_error = str(exc)[:2000]
                delay = min(OUTBOX_BACKOFF_BASE * (2 ** (message.attempts - 1)), OUTBOX_BACKOFF_CAP)
                message.next_attempt_at = now + delay
                message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                break
            except Exception:
                # Only in eager mode does a task run here: it ran and failed, as it could on a
                # worker, so the message counts as delivered.
                logger.exception("outbox task failed inline", extra={"task": message.task_name})
            message.delete()
            published += 1
    remaining = OutboxMessage.objects.count()
    return {"published": published, "failed": failed, "remaining": remaining}
