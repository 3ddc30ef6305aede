"""Broadcasts: staff messages fanned out to an audience by a Celery task, in batches.

The fan-out is safe to run any number of times, also concurrently: inserts go against the unique
``(broadcast, user)`` constraint with ON CONFLICT DO NOTHING, and a keyset cursor committed with
each batch lets a retried or redelivered task resume where the last one stopped.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import record_event
from apps.core.queue import enqueue_after_commit
from apps.notifications import selectors
from apps.notifications.emails import send_templated_email
from apps.notifications.models import Broadcast, Notification, ReminderLog

FAN_OUT_TASK = "notifications.fan_out_broadcast"
BROADCAST_EMAIL_TASK = "notifications.send_broadcast_email"


def start_broadcast(*, broadcast: Broadcast, actor: Any = None) -> None:
    """Records the staff action and enqueues the fan-out once the broadcast row commits."""
    record_event(
        kind="content",
        action="notifications.broadcast_created",
        actor=actor,
        target=broadcast,
        after={
            "title": broadcast.title,
            "kind": broadcast.kind,
            "audience": broadcast.audience,
            "role": broadcast.role,
            "category_id": broadcast.category_id,
            "target_user_id": broadcast.target_user_id,
            "send_email": broadcast.send_email,
        },
    )
    enqueue_after_commit(FAN_OUT_TASK, broadcast.pk)


@transaction.atomic
def create_broadcast(*, created_by: User | None, **fields: Any) -> Broadcast:
    """Validates and stores a broadcast, then enqueues its fan-out after commit.

    ``fields`` are Broadcast fields (title, body, kind, link, audience, role, category,
    target_user, send_email). Invalid combinations raise ``django.core.exceptions
    .ValidationError``.
    """
    broadcast = Broadcast(created_by=created_by, **fields)
    broadcast.full_clean()
    broadcast.save()
    start_broadcast(broadcast=broadcast, actor=created_by)
    return broadcast


def _fan_out_batch(*, broadcast: Broadcast, targets: list[selectors.BroadcastTarget]) -> None:
    """Inserts one batch and advances the cursor, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=target.user_id,
                    broadcast_id=broadcast.pk,
                    title=broadcast.title,
                    body=broadcast.body,
                    kind=broadcast.kind,
                    link=broadcast.link,
                    created_at=now,
                )
                for target in targets
                if target.in_app
            ],
            ignore_conflicts=True,
        )
        for target in targets:
            if target.email:
                enqueue_after_commit(BROADCAST_EMAIL_TASK, broadcast.pk, target.user_id)
        last = targets[-1].user_id
        Broadcast.objects.filter(pk=broadcast.pk, cursor_user_id__lt=last).update(
            cursor_user_id=last
        )


def fan_out_broadcast(*, broadcast_id: int) -> int:
    """Delivers the broadcast to every target exactly once; returns the number delivered.

    Targets are read in id order in batches of ``NOTIFICATIONS_FANOUT_BATCH_SIZE`` (keyset, never
    OFFSET), each batch inserted in one statement. A finished broadcast is left alone.
    """
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if broadcast is None:
        return 0
    if broadcast.status == Broadcast.Status.DONE:
        return broadcast.sent_count
    Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.PENDING).update(
        status=Broadcast.Status.SENDING
    )
    batch_size = max(1, int(settings.NOTIFICATIONS_FANOUT_BATCH_SIZE))
    pause = float(settings.NOTIFICATIONS_FANOUT_BATCH_PAUSE_SECONDS)
    cursor = broadcast.cursor_user_id
    while True:
        targets = selectors.broadcast_targets(
            broadcast=broadcast, after_user_id=cursor, limit=batch_size
        )
        if not targets:
            break
        _fan_out_batch(broadcast=broadcast, targets=targets)
        cursor = targets[-1].user_id
        if len(targets) < batch_size:
            break
        if pause:
            time.sleep(pause)
    sent = Notification.objects.filter(broadcast_id=broadcast.pk).count()
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=Broadcast.Status.DONE, sent_count=sent, finished_at=timezone.now()
    )
    return sent


def send_broadcast_email(*, broadcast_id: int, user_id: int) -> bool:
    """Emails one target of a broadcast at most once; True when an email left now.

    The ledger row is locked while sending, so a duplicate task waits and then sees it sent;
    a failed send rolls the row back and the task's retry tries again.
    """
    with transaction.atomic():
        log, _ = ReminderLog.objects.get_or_create(
            user_id=user_id, kind=ReminderLog.LogKind.BROADCAST_EMAIL, key=str(broadcast_id)
        )
        log = (
            ReminderLog.objects.select_for_update(of=("self",))
            .select_related("user__profile")
            .get(pk=log.pk)
        )
        broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
        user = log.user
        if log.emailed_at is not None or broadcast is None:
            return False
        if not (user.is_active and user.is_email_verified):
            return False
        if not selectors.wants_email(selectors.preferences_for(user=user), broadcast.kind):
            return False
        send_templated_email(
            to=user.email,
            template="broadcast",
            context={
                "display_name": _display_name(user),
                "title": broadcast.title,
                "body": broadcast.body,
                "link": _absolute(broadcast.link),
                "preferences_url": f"{settings.FRONTEND_URL}/settings/notifications",
            },
        )
        log.emailed_at = timezone.now()
        log.save(update_fields=["emailed_at"])
    return True


def _display_name(user: User) -> str:
    profile = getattr(user, "profile", None)
    return (getattr(profile, "display_name", "") or "").strip() or user.email.split("@")[0]


def _absolute(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return f"{settings.FRONTEND_URL.rstrip('/')}/{link.lstrip('/')}"
