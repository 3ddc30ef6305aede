"""Celery tasks for accounts: thin and idempotent, they call services."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from apps.accounts import services


@shared_task(
    name=services.VERIFICATION_EMAIL_TASK,
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    max_retries=5,
)
def send_verification_email_task(user_id: int) -> bool:
    return services.send_verification_email(user_id=user_id)


@shared_task(
    name=services.RESET_EMAIL_TASK,
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    max_retries=3,
)
def send_password_reset_email_task(user_id: int) -> bool:
    return services.send_password_reset_email(user_id=user_id)


@shared_task(
    name=services.UNLOCK_EMAIL_TASK,
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    max_retries=3,
)
def send_unlock_email_task(device_id: int) -> bool:
    return services.send_unlock_email(device_id=device_id)


@shared_task(
    name=services.REGISTRATION_ATTEMPT_EMAIL_TASK,
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    max_retries=3,
)
def send_registration_attempt_email_task(user_id: int) -> bool:
    return services.send_registration_attempt_email(user_id=user_id)


@shared_task(name="accounts.flush_expired_tokens")
def flush_expired_tokens() -> dict[str, int]:
    """Daily (Beat): expired JWT bookkeeping, long-dead device sessions, stale login failures."""
    return services.flush_expired_auth_data()
