from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.core.exceptions import NotFound
from apps.notifications import selectors, services
from apps.notifications.models import Kind, Notification, NotificationPreference
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


# --- Preferences -----------------------------------------------------------------------------


def test_preferences_default_when_never_chosen(user: User) -> None:
    preference = selectors.preferences_for(user=user)
    assert preference.pk is None
    assert selectors.wants_in_app(preference, Kind.BROADCAST) is True
    assert selectors.wants_email(preference, Kind.BROADCAST) is False
    assert selectors.wants_email(preference, Kind.REMINDER) is True
    assert selectors.wants_email(preference, Kind.PROGRESS) is True


def test_system_kind_ignores_preferences(user: User) -> None:
    services.update_preferences(
        user=user,
        changes={
            "in_app_broadcasts": False,
            "in_app_reminders": False,
            "in_app_progress": False,
            "in_app_content": False,
        },
    )
    preference = selectors.preferences_for(user=user)
    assert not any(
        selectors.wants_in_app(preference, kind)
        for kind in (Kind.BROADCAST, Kind.REMINDER, Kind.PROGRESS, Kind.CONTENT)
    )
    assert selectors.wants_in_app(preference, Kind.SYSTEM) is True


def test_update_preferences_creates_then_updates_one_row(user: User) -> None:
    services.update_preferences(user=user, changes={"email_reminders": False})
    services.update_preferences(user=user, changes={"in_app_content": False})
    stored = NotificationPreference.objects.get(user=user)
    assert stored.email_reminders is False
    assert stored.in_app_content is False
    assert stored.email_weekly_summary is True


def test_update_preferences_refuses_unknown_fields(user: User) -> None:
    with pytest.raises(ValueError, match="unknown preference"):
        services.update_preferences(user=user, changes={"user_id": True})
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_notify_user_respects_preferences(user: User) -> None:
    services.update_preferences(user=user, changes={"in_app_content": False})

    refused = services.notify_user(user=user, title="New video", kind=Kind.CONTENT)
    forced = services.notify_user(
        user=user, title="New video", kind=Kind.CONTENT, respect_preferences=False
    )
    system = services.notify_user(user=user, title="Password changed", kind=Kind.SYSTEM)

    assert refused is None
    assert forced is not None
    assert system is not None
    titles = sorted(Notification.objects.filter(user=user).values_list("title", flat=True))
    assert titles == ["New video", "Password changed"]
    assert Notification.objects.filter(user=user).count() == 2


def test_notify_user_refuses_unknown_kind(user: User) -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        services.notify_user(user=user, title="x", kind="spam")


# --- Read state ------------------------------------------------------------------------------


def test_mark_read_is_scoped_to_the_owner(user: User, other_user: User) -> None:
    theirs = NotificationFactory(user=other_user)
    with pytest.raises(NotFound):
        services.mark_notification_read(user=user, notification_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.is_read is False


def test_mark_all_read_counts_changes(user: User) -> None:
    NotificationFactory.create_batch(3, user=user)
    assert services.mark_all_notifications_read(user=user) == 3
    assert services.mark_all_notifications_read(user=user) == 0
    assert selectors.unread_count_for(user=user) == 0


# --- Pruning ---------------------------------------------------------------------------------


def test_prune_deletes_only_old_read_notifications(user: User, settings: object) -> None:
    now = timezone.now()
    old_read = NotificationFactory(
        user=user, is_read=True, read_at=now - timedelta(days=91), created_at=now - timedelta(100)
    )
    recent_read = NotificationFactory(user=user, is_read=True, read_at=now - timedelta(days=89))
    old_unread = NotificationFactory(user=user, created_at=now - timedelta(days=400))

    deleted = services.prune_read_notifications(now=now)

    assert deleted == 1
    remaining = set(Notification.objects.values_list("pk", flat=True))
    assert remaining == {recent_read.pk, old_unread.pk}
    assert old_read.pk not in remaining
    assert services.prune_read_notifications(now=now) == 0


def test_prune_works_in_batches(user: User) -> None:
    now = timezone.now()
    for _ in range(7):
        NotificationFactory(user=user, is_read=True, read_at=now - timedelta(days=120))
    assert services.prune_read_notifications(now=now, batch_size=3) == 7
    assert not Notification.objects.exists()


def test_prune_age_is_a_setting(user: User, settings: object) -> None:
    settings.NOTIFICATIONS_PRUNE_READ_AFTER_DAYS = 10
    now = timezone.now()
    NotificationFactory(user=user, is_read=True, read_at=now - timedelta(days=11))
    assert services.prune_read_notifications(now=now) == 1


# --- Personal data ---------------------------------------------------------------------------


def test_personal_data_holds_only_the_users_rows(user: User, other_user: User) -> None:
    mine = NotificationFactory(user=user, title="Mine")
    NotificationFactory(user=other_user, title="Theirs")
    services.update_preferences(user=user, changes={"email_reminders": False})

    data = selectors.personal_data(user_id=user.pk)

    assert [n["id"] for n in data["notifications"]] == [mine.pk]
    assert data["notifications"][0]["title"] == "Mine"
    assert data["preferences"]["email_reminders"] is False
    assert data["messages_sent"] == []
    assert selectors.personal_data(user_id=other_user.pk)["preferences"] is None
