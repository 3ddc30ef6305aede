"""Broadcast fan-out (run in-process here; the real worker is in test_worker.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from apps.accounts.models import Role, User
from apps.notifications import services
from apps.notifications.models import Broadcast, Kind, Notification, ReminderLog
from apps.notifications.services import broadcasts as broadcast_services
from config.celery import app as celery_app
from tests.accounts.factories import UserFactory
from tests.notifications.factories import BroadcastFactory, record_study
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def _delivered(broadcast: Broadcast) -> Counter[int]:
    rows = Notification.objects.filter(broadcast=broadcast).values_list("user_id", flat=True)
    return Counter(rows)


def test_fan_out_reaches_every_active_user_once(settings: Any) -> None:
    settings.NOTIFICATIONS_FANOUT_BATCH_SIZE = 3
    users = UserFactory.create_batch(10)
    UserFactory(is_active=False)
    broadcast = BroadcastFactory(title="New questions", body="200 new anatomy questions", link="/q")

    sent = services.fan_out_broadcast(broadcast_id=broadcast.pk)

    assert sent == 10
    assert _delivered(broadcast) == Counter({u.pk: 1 for u in users})
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.DONE
    assert broadcast.sent_count == 10
    assert broadcast.cursor_user_id == max(u.pk for u in users)
    assert broadcast.finished_at is not None
    one = Notification.objects.filter(broadcast=broadcast).first()
    assert one is not None
    assert (one.title, one.body, one.kind, one.link, one.is_read) == (
        "New questions",
        "200 new anatomy questions",
        Kind.BROADCAST,
        "/q",
        False,
    )


def test_fan_out_twice_never_duplicates(settings: Any) -> None:
    settings.NOTIFICATIONS_FANOUT_BATCH_SIZE = 4
    users = UserFactory.create_batch(9)
    broadcast = BroadcastFactory()

    services.fan_out_broadcast(broadcast_id=broadcast.pk)
    # A redelivered message after the run finished is a no-op...
    assert services.fan_out_broadcast(broadcast_id=broadcast.pk) == 9
    # ...and so is one that starts from scratch over rows already there (state lost).
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=Broadcast.Status.SENDING, cursor_user_id=0
    )
    assert services.fan_out_broadcast(broadcast_id=broadcast.pk) == 9

    assert _delivered(broadcast) == Counter({u.pk: 1 for u in users})


def test_fan_out_resumes_after_a_crash_mid_way(settings: Any, monkeypatch: Any) -> None:
    settings.NOTIFICATIONS_FANOUT_BATCH_SIZE = 2
    users = UserFactory.create_batch(7)
    broadcast = BroadcastFactory()
    real_batch = broadcast_services._fan_out_batch
    calls = {"n": 0}

    def crash_on_third_batch(**kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker lost")
        real_batch(**kwargs)

    monkeypatch.setattr(broadcast_services, "_fan_out_batch", crash_on_third_batch)
    with pytest.raises(RuntimeError):
        services.fan_out_broadcast(broadcast_id=broadcast.pk)

    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.SENDING
    assert sum(_delivered(broadcast).values()) == 4  # two batches committed, the third not
    assert broadcast.cursor_user_id == sorted(u.pk for u in users)[3]

    monkeypatch.setattr(broadcast_services, "_fan_out_batch", real_batch)
    assert services.fan_out_broadcast(broadcast_id=broadcast.pk) == 7
    assert _delivered(broadcast) == Counter({u.pk: 1 for u in users})


def test_missing_broadcast_is_a_no_op() -> None:
    assert services.fan_out_broadcast(broadcast_id=987654) == 0


def test_role_audience() -> None:
    editors = UserFactory.create_batch(2, role=Role.EDITOR)
    UserFactory.create_batch(3, role=Role.USER)
    broadcast = BroadcastFactory(audience=Broadcast.Audience.ROLE, role=Role.EDITOR)

    services.fan_out_broadcast(broadcast_id=broadcast.pk)

    assert set(_delivered(broadcast)) == {u.pk for u in editors}


def test_single_user_audience(user: User, other_user: User) -> None:
    broadcast = BroadcastFactory(audience=Broadcast.Audience.USER, target_user=user)
    services.fan_out_broadcast(broadcast_id=broadcast.pk)
    assert _delivered(broadcast) == Counter({user.pk: 1})


def test_category_practisers_audience() -> None:
    anatomy = CategoryFactory(name="Anatomy")
    physiology = CategoryFactory(name="Physiology")
    practised_anatomy = UserFactory.create_batch(2)
    only_physiology = UserFactory()
    UserFactory()  # never practised
    for u in practised_anatomy:
        record_study(user=u, category=anatomy, answered=2, correct=1)
    record_study(user=only_physiology, category=physiology, answered=3, correct=3)
    broadcast = BroadcastFactory(audience=Broadcast.Audience.CATEGORY_PRACTISERS, category=anatomy)

    services.fan_out_broadcast(broadcast_id=broadcast.pk)

    assert set(_delivered(broadcast)) == {u.pk for u in practised_anatomy}


def test_in_app_preferences_are_respected_per_kind() -> None:
    keen, muted_broadcasts, muted_content = UserFactory.create_batch(3)
    services.update_preferences(user=muted_broadcasts, changes={"in_app_broadcasts": False})
    services.update_preferences(user=muted_content, changes={"in_app_content": False})

    announcement = BroadcastFactory(kind=Kind.BROADCAST)
    new_content = BroadcastFactory(kind=Kind.CONTENT)
    system = BroadcastFactory(kind=Kind.SYSTEM)
    for b in (announcement, new_content, system):
        services.fan_out_broadcast(broadcast_id=b.pk)

    assert set(_delivered(announcement)) == {keen.pk, muted_content.pk}
    assert set(_delivered(new_content)) == {keen.pk, muted_broadcasts.pk}
    assert set(_delivered(system)) == {keen.pk, muted_broadcasts.pk, muted_content.pk}
    announcement.refresh_from_db()
    assert announcement.sent_count == 2


def test_email_goes_to_verified_opted_in_targets_once(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.NOTIFICATIONS_FANOUT_BATCH_SIZE = 2
    opted_in = UserFactory.create_batch(3)
    for u in opted_in:
        services.update_preferences(user=u, changes={"email_broadcasts": True})
    email_only = UserFactory()
    services.update_preferences(
        user=email_only, changes={"email_broadcasts": True, "in_app_broadcasts": False}
    )
    unverified = UserFactory(is_email_verified=False)
    services.update_preferences(user=unverified, changes={"email_broadcasts": True})
    UserFactory()  # default: no broadcast email
    broadcast = BroadcastFactory(send_email=True, title="Exam dates & venues", link="/exams")

    with django_capture_on_commit_callbacks(execute=True):
        services.fan_out_broadcast(broadcast_id=broadcast.pk)
    # Delivered twice (redelivery from scratch): no second email to anyone.
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=Broadcast.Status.PENDING, cursor_user_id=0
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.fan_out_broadcast(broadcast_id=broadcast.pk)

    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(u.email for u in [*opted_in, email_only])
    assert email_only.pk not in _delivered(broadcast)
    message = mail.outbox[0]
    assert message.subject == "Exam dates & venues"
    html = message.alternatives[0][0]
    assert "Exam dates &amp; venues" in html
    assert "http://localhost:3000/exams" in html
    assert "Exam dates & venues" in message.body
    assert (
        ReminderLog.objects.filter(
            kind=ReminderLog.LogKind.BROADCAST_EMAIL, emailed_at__isnull=False
        ).count()
        == 4
    )


def test_broadcast_email_honours_a_later_opt_out(user: User) -> None:
    broadcast = BroadcastFactory(send_email=True)
    services.update_preferences(user=user, changes={"email_broadcasts": False})
    assert services.send_broadcast_email(broadcast_id=broadcast.pk, user_id=user.pk) is False
    assert mail.outbox == []


def test_failed_email_is_retried_not_marked_sent(user: User, monkeypatch: Any) -> None:
    services.update_preferences(user=user, changes={"email_broadcasts": True})
    broadcast = BroadcastFactory(send_email=True)

    def smtp_down(*args: Any, **kwargs: Any) -> int:
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(broadcast_services, "send_templated_email", smtp_down)
    with pytest.raises(ConnectionRefusedError):
        services.send_broadcast_email(broadcast_id=broadcast.pk, user_id=user.pk)
    assert not ReminderLog.objects.filter(user=user).exists()

    monkeypatch.undo()
    assert services.send_broadcast_email(broadcast_id=broadcast.pk, user_id=user.pk) is True
    assert services.send_broadcast_email(broadcast_id=broadcast.pk, user_id=user.pk) is False
    assert len(mail.outbox) == 1


def test_email_task_retries_on_smtp_errors(user: User, monkeypatch: Any) -> None:
    from smtplib import SMTPServerDisconnected

    from apps.notifications import tasks

    services.update_preferences(user=user, changes={"email_broadcasts": True})
    broadcast = BroadcastFactory(send_email=True)
    attempts = {"n": 0}
    real = broadcast_services.send_templated_email

    def flaky(**kwargs: Any) -> int:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise SMTPServerDisconnected("try again")
        return real(**kwargs)

    monkeypatch.setattr(broadcast_services, "send_templated_email", flaky)
    # Run in-process: retries are applied inline (no countdown wait) unless errors propagate.
    propagates = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    try:
        result = tasks.send_broadcast_email.apply(args=(broadcast.pk, user.pk))
    finally:
        celery_app.conf.task_eager_propagates = propagates

    assert result.successful()
    assert attempts["n"] == 3
    assert len(mail.outbox) == 1
    assert tasks.send_broadcast_email.max_retries == 6
    assert tasks.send_broadcast_email.time_limit == 60


def test_create_broadcast_validates_the_audience(admin_user: User) -> None:
    with pytest.raises(ValidationError) as role_error:
        services.create_broadcast(
            created_by=admin_user, title="x", audience=Broadcast.Audience.ROLE, role=""
        )
    with pytest.raises(ValidationError) as category_error:
        services.create_broadcast(
            created_by=admin_user, title="x", audience=Broadcast.Audience.CATEGORY_PRACTISERS
        )
    with pytest.raises(ValidationError) as user_error:
        services.create_broadcast(created_by=admin_user, title="x", audience="user")

    assert "role" in role_error.value.message_dict
    assert "category" in category_error.value.message_dict
    assert "target_user" in user_error.value.message_dict
    assert not Broadcast.objects.exists()


def test_create_broadcast_enqueues_the_fan_out_after_commit(
    admin_user: User, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        broadcast = services.create_broadcast(
            created_by=admin_user, title="Hello", audience="role", role=Role.USER
        )
    # Nothing runs inside the request's transaction...
    assert not Notification.objects.exists()
    assert len(callbacks) == 1
    # ...the fan-out runs once it commits (eager here).
    callbacks[0]()
    assert _delivered(broadcast) == Counter({user.pk: 1})


def test_constraint_refuses_a_duplicate_even_outside_the_service(user: User) -> None:
    from django.db import IntegrityError, transaction

    broadcast = BroadcastFactory()
    Notification.objects.create(user=user, broadcast=broadcast, title="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(user=user, broadcast=broadcast, title="b")
    # Targeted notifications (no broadcast) are not limited.
    Notification.objects.create(user=user, title="c")
    Notification.objects.create(user=user, title="d")
    assert Notification.objects.filter(user=user).count() == 3


def test_fan_out_batches_cost_constant_queries(
    settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.NOTIFICATIONS_FANOUT_BATCH_SIZE = 50
    UserFactory.create_batch(120)
    broadcast = BroadcastFactory()
    # Per batch: targets, savepoint-less insert, cursor (+ transaction); then count and finish.
    with django_assert_max_num_queries(3 + 3 * 5 + 4):
        assert services.fan_out_broadcast(broadcast_id=broadcast.pk) == 120
