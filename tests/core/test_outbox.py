"""Enqueueing survives a broker outage: the caller succeeds, the job waits in the outbox, and a
drain publishes it once the broker is back."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.models import User
from apps.core import queue as dispatch
from apps.core.models import OutboxMessage
from apps.notifications import services
from apps.notifications.models import Broadcast, Notification
from tests.notifications.conftest import DEAD_BROKER_URL, TEST_BROKER_URL, use_broker

pytestmark = pytest.mark.django_db


def test_enqueue_waits_for_commit(user: User, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dispatch.enqueue_after_commit(
            "notifications.send_templated_email",
            user.email,
            "broadcast",
            {"title": "Hello", "body": "Body", "display_name": "Ann"},
        )
        assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Hello"


def test_dead_broker_keeps_the_task_in_the_outbox(
    user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with use_broker(DEAD_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        dispatch.enqueue_after_commit("notifications.fan_out_broadcast", 42)

    message = OutboxMessage.objects.get()
    assert message.task_name == "notifications.fan_out_broadcast"
    assert message.args == [42]
    assert message.kwargs == {}
    assert message.attempts == 0
    assert message.last_error


def test_service_succeeds_with_the_broker_down(
    admin_user: User, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with use_broker(DEAD_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        broadcast = services.create_broadcast(
            created_by=admin_user, title="Maintenance tonight", body="Back at 02:00."
        )

    assert Broadcast.objects.filter(pk=broadcast.pk).exists()
    assert not Notification.objects.exists()  # nothing fanned out yet...
    message = OutboxMessage.objects.get()  # ...but the job is not lost
    assert (message.task_name, message.args) == ("notifications.fan_out_broadcast", [broadcast.pk])

    # The broker is back (eager here): the drain publishes it and the fan-out runs.
    assert dispatch.drain_outbox() == {"published": 1, "failed": 0, "remaining": 0}
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.DONE
    assert set(Notification.objects.values_list("user_id", flat=True)) == {admin_user.pk, user.pk}


def test_drain_with_the_broker_still_down_backs_off(user: User) -> None:
    first = OutboxMessage.objects.create(task_name="core.drain_outbox")
    second = OutboxMessage.objects.create(task_name="core.drain_outbox")
    before = timezone.now()

    with use_broker(DEAD_BROKER_URL):
        result = dispatch.drain_outbox()

    assert result == {"published": 0, "failed": 1, "remaining": 2}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.attempts == 1
    assert first.next_attempt_at >= before + timedelta(seconds=29)
    assert second.attempts == 0  # the drain stops at the first failure

    # Not due yet: a second drain leaves the first alone and tries the next.
    with use_broker(DEAD_BROKER_URL):
        dispatch.drain_outbox()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.attempts == 1
    assert second.attempts == 1


def test_drain_publishes_to_the_real_broker_in_order(broker_redis: Any, queue_name: str) -> None:
    for broadcast_id in (7, 8, 9):
        OutboxMessage.objects.create(
            task_name="notifications.fan_out_broadcast", args=[broadcast_id]
        )
    try:
        with use_broker(TEST_BROKER_URL, queue=queue_name):
            result = dispatch.drain_outbox()

        assert result == {"published": 3, "failed": 0, "remaining": 0}
        # Kombu's Redis transport LPUSHes and workers BRPOP: the oldest is at the right.
        raw = broker_redis.lrange(queue_name, 0, -1)
        published = [json.loads(item) for item in reversed(raw)]
        assert [m["headers"]["task"] for m in published] == ["notifications.fan_out_broadcast"] * 3
        assert [m["headers"]["argsrepr"] for m in published] == ["(7,)", "(8,)", "(9,)"]
    finally:
        broker_redis.delete(queue_name)


def test_registered_task_with_live_broker_is_published_not_stored(
    broker_redis: Any, queue_name: str, django_capture_on_commit_callbacks: Any
) -> None:
    try:
        with (
            use_broker(TEST_BROKER_URL, queue=queue_name),
            django_capture_on_commit_callbacks(execute=True),
        ):
            dispatch.enqueue_after_commit("notifications.fan_out_broadcast", 5)
        assert broker_redis.llen(queue_name) == 1
        assert not OutboxMessage.objects.exists()
    finally:
        broker_redis.delete(queue_name)


def test_inline_task_failure_during_drain_is_not_retried_forever(user: User) -> None:
    # Eager mode: the task runs in the drain; a failing task counts as delivered, like a
    # task failing on a worker, and the drain carries on.
    OutboxMessage.objects.create(
        task_name="notifications.send_templated_email",
        args=[user.email, "no_such_template", {}],
    )
    OutboxMessage.objects.create(task_name="notifications.prune_read_notifications")

    assert dispatch.drain_outbox() == {"published": 2, "failed": 0, "remaining": 0}
