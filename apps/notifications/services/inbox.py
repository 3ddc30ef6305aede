"""The in-app inbox: creating notifications, read state, preferences and pruning."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.notifications import selectors
from apps.notifications.models import Kind, Notification, NotificationPreference

PREFERENCE_FIELDS: tuple[str, ...] = tuple(
    field.name
    for field in NotificationPreference._meta.get_fields()
    if getattr(field, "get_internal_type", lambda: "")() == "BooleanField"
)


def notify_user(
    *,
    user: User,
    title: str,
    body: str = "",
    kind: str = Kind.SYSTEM,
    link: str = "",
    respect_preferences: bool = True,
) -> Notification | None:
    """Puts one notification in the user's inbox; None when their preferences refuse the kind.

    ``system`` notifications always arrive. Staff sending a targeted message may pass
    ``respect_preferences=False``.
    """
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    if respect_preferences and not selectors.wants_in_app(
        selectors.preferences_for(user=user), kind
    ):
        return None
    return Notification.objects.create(user=user, title=title, body=body, kind=kind, link=link)


def mark_notification_read(*, user: User, notification_id: int) -> Notification:
    """Marks one of the user's notifications read (idempotent: the first read time stays).

    Another user's notification is not found (404).
    """
    notification = selectors.notification_for(user=user, notification_id=notification_id)
    if not notification.is_read:
        now = timezone.now()
        updated = Notification.objects.filter(pk=notification.pk, is_read=False).update(
            is_read=True, read_at=now
        )
        if updated:
            notification.is_read = True
            notification.read_at = now
        else:  # read concurrently: report the stored time
            notification.refresh_from_db(fields=["is_read", "read_at"])
    return notification


def mark_all_notifications_read(*, user: User) -> int:
    """Marks every unread notification of the user read; returns how many changed."""
    return Notification.objects.filter(user=user, is_read=False).update(
        is_read=True, read_at=timezone.now()
    )


@transaction.atomic
def update_preferences(*, user: User, changes: Mapping[str, bool]) -> NotificationPreference:
    """Applies ``changes`` (preference field -> bool) and returns the stored preferences."""
    unknown = sorted(set(changes) - set(PREFERENCE_FIELDS))
    if unknown:
        raise ValueError(f"unknown preference fields: {unknown}")
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    for field, value in changes.items():
        setattr(preference, field, bool(value))
    preference.save()
    return preference


def prune_read_notifications(
    *, now: datetime | None = None, older_than_days: int | None = None, batch_size: int = 5000
) -> int:
    """Deletes notifications read more than ``older_than_days`` ago (default: the setting), in
    batches so no single statement holds locks for long. Unread ones are never pruned."""
    days = (
        older_than_days
        if older_than_days is not None
        else settings.NOTIFICATIONS_PRUNE_READ_AFTER_DAYS
    )
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            Notification.objects.filter(is_read=True, read_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        count, _ = Notification.objects.filter(pk__in=ids).delete()
        deleted += count
