"""Staff send broadcasts and targeted notifications from Django Admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import Role, User
from apps.audit.models import AuditEvent
from apps.core.models import OutboxMessage
from apps.notifications.models import Broadcast, Kind, Notification
from tests.accounts.factories import UserFactory
from tests.notifications.conftest import DEAD_BROKER_URL, use_broker
from tests.notifications.factories import BroadcastFactory, NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _broadcast_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "title": "New mock exam",
        "body": "Paper 2 is live.",
        "kind": Kind.BROADCAST,
        "link": "/exams",
        "audience": Broadcast.Audience.ROLE,
        "role": Role.USER,
        "category": "",
        "target_user": "",
    }
    form.update(overrides)
    return form


def test_creating_a_broadcast_enqueues_the_fan_out(
    staff_client: Client, admin_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    candidates = UserFactory.create_batch(3)
    UserFactory(role=Role.EDITOR)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post("/admin/notifications/broadcast/add/", _broadcast_form())

    assert response.status_code == 302
    broadcast = Broadcast.objects.get()
    assert broadcast.created_by == admin_user
    assert broadcast.status == Broadcast.Status.PENDING
    assert not Notification.objects.exists()  # never in the request
    assert len(callbacks) == 1

    callbacks[0]()  # the commit: the task is published (and run eagerly here)
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.DONE
    assert broadcast.sent_count == 3
    assert set(Notification.objects.values_list("user_id", flat=True)) == {u.pk for u in candidates}
    event = AuditEvent.objects.get(action="notifications.broadcast_created")
    assert event.actor == admin_user
    assert event.target_id == str(broadcast.pk)


def test_broadcast_admin_shows_status_and_count(staff_client: Client) -> None:
    BroadcastFactory(title="Sent one", status=Broadcast.Status.DONE, sent_count=1234)
    page = staff_client.get("/admin/notifications/broadcast/").content.decode()
    assert "Sent one" in page
    assert "1234" in page
    assert "Done" in page


def test_broadcast_form_rejects_a_missing_audience_field(staff_client: Client) -> None:
    response = staff_client.post(
        "/admin/notifications/broadcast/add/",
        _broadcast_form(audience=Broadcast.Audience.CATEGORY_PRACTISERS, role=""),
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Choose the category" in response.content.decode()
    assert not Broadcast.objects.exists()


def test_a_sent_broadcast_cannot_be_edited(staff_client: Client) -> None:
    broadcast = BroadcastFactory(title="Original", status=Broadcast.Status.DONE)
    staff_client.post(
        f"/admin/notifications/broadcast/{broadcast.pk}/change/",
        _broadcast_form(title="Changed"),
    )
    broadcast.refresh_from_db()
    assert broadcast.title == "Original"


def test_admin_survives_a_broker_outage(
    staff_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    UserFactory()
    with use_broker(DEAD_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/admin/notifications/broadcast/add/", _broadcast_form())
    assert response.status_code == 302
    broadcast = Broadcast.objects.get()
    assert OutboxMessage.objects.get().args == [broadcast.pk]

    outbox_page = staff_client.get("/admin/core/outboxmessage/").content.decode()
    assert "notifications.fan_out_broadcast" in outbox_page

    staff_client.post(
        "/admin/core/outboxmessage/",
        {
            "action": "publish_now",
            "_selected_action": [str(OutboxMessage.objects.get().pk)],
        },
    )
    assert not OutboxMessage.objects.exists()
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.DONE


def test_targeted_notification_from_admin(
    staff_client: Client, admin_user: User, user: User
) -> None:
    response = staff_client.post(
        "/admin/notifications/notification/add/",
        {"user": user.pk, "title": "About your report", "body": "Fixed.", "kind": "system"},
    )
    assert response.status_code == 302
    notification = Notification.objects.get()
    assert (notification.user, notification.title, notification.broadcast) == (
        user,
        "About your report",
        None,
    )
    assert AuditEvent.objects.filter(
        action="notifications.notification_sent", subject_user_id=user.pk, actor=admin_user
    ).exists()


def test_admin_lists_load(staff_client: Client, user: User) -> None:
    NotificationFactory(user=user)
    for path in (
        "/admin/notifications/notification/",
        "/admin/notifications/notificationpreference/",
        "/admin/notifications/reminderlog/",
        "/admin/core/outboxmessage/",
        "/admin/notifications/broadcast/add/",
    ):
        assert staff_client.get(path).status_code == 200, path


def test_candidates_cannot_use_the_admin(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = client.get("/admin/notifications/broadcast/add/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
