"""Celery tasks for notifications: thin and idempotent, they call services.

Every task has a time limit. Tasks that talk to something outside (the SMTP server, the broker)
retry with exponential backoff; the planning tasks retry when the database is briefly away.
Messages are acknowledged late and rejected if the worker dies (settings), so a task cut off
mid-way runs again, and each one is written to be safe to run again.
"""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from apps.notifications import services
from apps.notifications.emails import send_templated_email

EMAIL_ERRORS = (SMTPException, ConnectionError, TimeoutError, OSError)
DATABASE_ERRORS = (OperationalError, InterfaceError)

_email_task: dict[str, Any] = {
    "autoretry_for": EMAIL_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 6,
    "soft_time_limit": 50,
    "time_limit": 60,
}
_database_task: dict[str, Any] = {
    "autoretry_for": DATABASE_ERRORS,
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


@shared_task(
    name="notifications.fan_out_broadcast", soft_time_limit=1700, time_limit=1800, **_database_task
)
def fan_out_broadcast(broadcast_id: int) -> int:
    return services.fan_out_broadcast(broadcast_id=broadcast_id)


@shared_task(name="notifications.send_broadcast_email", **_email_task)
def send_broadcast_email(broadcast_id: int, user_id: int) -> bool:
    return services.send_broadcast_email(broadcast_id=broadcast_id, user_id=user_id)


@shared_task(
    name="notifications.send_study_reminders", soft_time_limit=540, time_limit=600, **_database_task
)
def send_study_reminders() -> int:
    """Daily (Beat)."""
    return services.send_study_reminders()


@shared_task(name="notifications.send_study_reminder_email", **_email_task)
def send_study_reminder_email(log_id: int) -> bool:
    return services.send_study_reminder_email(log_id=log_id)


@shared_task(
    name="notifications.send_weekly_summaries",
    soft_time_limit=1700,
    time_limit=1800,
    **_database_task,
)
def send_weekly_summaries() -> int:
    """Mondays 07:00 UTC (Beat)."""
    return services.send_weekly_summaries()


@shared_task(name="notifications.send_weekly_summary_email", **_email_task)
def send_weekly_summary_email(log_id: int) -> bool:
    return services.send_weekly_summary_email(log_id=log_id)


@shared_task(
    name="notifications.prune_read_notifications",
    soft_time_limit=540,
    time_limit=600,
    **_database_task,
)
def prune_read_notifications() -> int:
    """Daily (Beat): read notifications older than NOTIFICATIONS_PRUNE_READ_AFTER_DAYS."""
    return services.prune_read_notifications()


@shared_task(name="notifications.send_templated_email", **_email_task)
def send_templated_email_task(to: str | list[str], template: str, context: dict[str, Any]) -> int:
    """Any app may enqueue an email: ``enqueue_after_commit("notifications.send_templated_email",
    to, template, context)``; the context must be JSON-serialisable."""
    return send_templated_email(to=to, template=template, context=context)
