"""Passwords: the reset link and the change of a known password."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction

from apps.accounts import email_tokens
from apps.accounts.models import LoginFailure, User
from apps.accounts.services.common import (
    InvalidEmailToken,
    normalise_email,
    password_errors,
    record_own_security_event,
    send_templated_email,
)
from apps.accounts.services.limits import check_current_password, take_durable_slot
from apps.accounts.services.trust import forget_known_sources
from apps.accounts.tokens import revoke_sessions
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import ValidationFailed
from apps.core.queue import enqueue_after_commit

# Sent from a worker, enqueued by name (see ``registration.VERIFICATION_EMAIL_TASK``).
RESET_EMAIL_TASK = "accounts.send_password_reset_email"

logger = logging.getLogger("apps.accounts")


def request_password_reset(*, email: str) -> None:
    """Sends a reset link if an active account has this address; silent otherwise.

    At most ``PASSWORD_RESET_EMAILS_PER_HOUR`` requests per address an hour are honoured,
    counted in PostgreSQL so that a mailbox cannot be flooded from many IPs or with Redis down.
    Requests for every address are counted, registered or not (the reply and the work done do not
    tell them apart), and one over the limit is dropped silently: the reply stays the same 202,
    and the links already sent still work, so the owner is not kept from resetting.
    """
    email = normalise_email(email)
    if take_durable_slot(
        bucket=f"reset-email:{email}",
        limit=settings.PASSWORD_RESET_EMAILS_PER_HOUR,
        window=timedelta(hours=1),
    ):
        logger.info("password reset email not sent: per-address limit reached")
        return
    user = User.objects.filter(email=email, is_active=True).first()
    if user is not None:
        enqueue_after_commit(RESET_EMAIL_TASK, user.pk)


def send_password_reset_email(*, user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    token = email_tokens.make_password_reset_token(user)
    send_templated_email(
        user=user,
        template="reset_password",
        context={
            "token": token,
            "link": f"{settings.FRONTEND_URL}/reset-password?{urlencode({'token': token})}",
            "max_age_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        },
    )
    return True


def reset_password(*, token: str, password: str, ip_address: str | None = None) -> User:
    """Sets a new password from a reset link (which then dies), ends every session and forgets
    the known devices and networks: a reset is what an owner does when someone else may know
    the old password, so what signed in with it is no longer vouched for."""
    user = email_tokens.user_for_password_reset_token(token)
    if user is None:
        raise InvalidEmailToken()
    errors = password_errors(password, user)
    if errors:
        raise ValidationFailed(fields={"password": errors})
    with transaction.atomic():
        user.set_password(password)
        # Following the link proves the address is the user's.
        user.is_email_verified = True
        user.save(update_fields=["password", "is_email_verified"])
        LoginFailure.objects.filter(email=user.email).delete()
        forget_known_sources(user=user)
        revoke_sessions(user=user, reason="password_reset", ip_address=ip_address)
        record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.password_reset",
            target=user,
            subject_user_id=user.pk,
            ip_address=ip_address,
        )
    return user


def change_password(
    *,
    user: User,
    current_password: str,
    new_password: str,
    current_session_id: int | None,
    ip_address: str | None = None,
) -> None:
    """Changes the password (the current one is required) and ends every other session."""
    try:
        check_current_password(user=user, password=current_password, ip_address=ip_address)
    except ValidationFailed as exc:
        raise ValidationFailed(fields={"current_password": ["The password is not correct."]}) from (
            exc
        )
    errors = password_errors(new_password, user)
    if errors:
        raise ValidationFailed(fields={"new_password": errors})
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoke_sessions(
            user=user,
            except_session_id=current_session_id,
            reason="password_changed",
            actor=user,
            ip_address=ip_address,
        )
        record_own_security_event(user=user, action="auth.password_changed", ip_address=ip_address)
