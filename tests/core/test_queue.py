"""Publishing tasks: a broker that is down never fails the request."""

from __future__ import annotations

from typing import Any

import pytest
from celery import Celery

from apps.core.queue import enqueue, enqueue_on_commit

ran: list[int] = []

offline = Celery("offline-test", broker="redis://127.0.0.1:6390/0", set_as_current=False)


@offline.task(name="tests.record_value")
def record_value(value: int) -> None:
    ran.append(value)


@pytest.fixture(autouse=True)
def _reset() -> None:
    ran.clear()


def test_broker_down_runs_the_task_inline_when_asked() -> None:
    enqueue(record_value, 7, run_inline_on_failure=True)
    assert ran == [7]


def test_broker_down_without_inline_fallback_drops_quietly() -> None:
    enqueue(record_value, 8)
    assert ran == []


@pytest.mark.django_db
def test_enqueue_on_commit_waits_for_the_commit(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit(record_value, 9, run_inline_on_failure=True)
    assert ran == []
    for callback in callbacks:
        callback()
    assert ran == [9]


def test_broker_up_publishes_without_running_inline(settings: Any) -> None:
    online = Celery("online-test", broker=settings.CELERY_BROKER_URL, set_as_current=False)
    online.conf.task_default_queue = f"test-queue-{id(online)}"

    @online.task(name="tests.never_consumed")
    def never_consumed() -> None:
        ran.append(1)

    enqueue(never_consumed, run_inline_on_failure=True)
    assert ran == []
    with online.connection_for_write() as connection:
        queue_length = connection.default_channel.client.llen(online.conf.task_default_queue)
        connection.default_channel.client.delete(online.conf.task_default_queue)
    assert queue_length == 1
