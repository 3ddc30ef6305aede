"""Accounts: registration, verification, logging in and out, passwords, profile, deletion.

This module is the only code that changes users and profiles. Token mechanics (issuing,
rotating and revoking device sessions) live in ``tokens.py``; reads in ``selectors.py``.

Brute force: every failed password check (login, change password, delete account) is a
``LoginFailure`` row keyed by the normalised email, in PostgreSQL, so the limit holds with
Redis down. After ``LOGIN_MAX_FAILURES_PER_HOUR`` failures within an hour, password checks for
that address are refused with 429 until the oldest failure leaves the window; there is no
permanent lockout. A successful login clears the address's failures.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings

from apps.accounts import email_tokens
from apps.accounts.models import AuthSession, LoginFailure, Profile, User
from apps.accounts.tokens import (
    InvalidRefreshToken,
    decode_refresh_token,
    issue_tokens_for,
    revoke_sessions,
)
from apps.audit.models import AuditEvent
from apps.audit.services import pseudonymise_user, record_event
from apps.core.exceptions import (
    Conflict,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from apps.core.queue import enqueue_after_commit

logger = logging.getLogger("apps.accounts")

FAILURE_WINDOW = timedelta(hours=1)
# Emails go out from a worker. The tasks (``apps/accounts/tasks.py``) call this module, so it
# enqueues them by name and never imports them.
VERIFICATION_EMAIL_TASK = "accounts.send_verification_email"
RESET_EMAIL_TASK = "accounts.send_password_reset_email"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    default_message = "The email or password is not correct."


class TooManyLoginFailures(TooManyRequests):
    code = "too_many_login_failures"
    default_message = "Too many failed attempts for this account. Try again later."


class InvalidEmailToken(ValidationFailed):
    default_message = "This link is invalid, has expired or has already been used."

    def __init__(self) -> None:
        super().__init__(fields={"token": [self.default_message]})


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _password_errors(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


# --- Registration and verification -------------------------------------------------------------


def register_user(*, email: str, password: str, display_name: str = "") -> User:
    """Creates an unverified user and their profile; the verification email is sent once the
    transaction commits. A taken address is a 400 on ``email``."""
    email = normalise_email(email)
    candidate = User(email=email)
    errors = _password_errors(password, candidate)
    if errors:
        raise ValidationFailed(fields={"password": errors})
    taken = ValidationFailed(fields={"email": ["An account with this email already exists."]})
    if User.objects.filter(email__iexact=email).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password)
            Profile.objects.create(user=user, display_name=display_name.strip())
    except IntegrityError as exc:  # a concurrent registration of the same address
        raise taken from exc
    enqueue_after_commit(VERIFICATION_EMAIL_TASK, user.pk)
    return user


def _send_templated_email(*, user: User, template: str, context: dict[str, Any]) -> None:
    context = {"user": user, "frontend_url": settings.FRONTEND_URL, **context}
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
    text = render_to_string(f"accounts/email/{template}.txt", context)
    html = render_to_string(f"accounts/email/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()


def send_verification_email(*, user_id: int) -> bool:
    """Sends a fresh verification link; False (nothing sent) if the user is gone or verified."""
    user = User.objects.filter(pk=user_id, is_active=True, is_email_verified=False).first()
    if user is None:
        return False
    token = email_tokens.make_email_verification_token(user)
    _send_templated_email(
        user=user,
        template="verify_email",
        context={
            "token": token,
            "link": f"{settings.FRONTEND_URL}/verify-email?{urlencode({'token': token})}",
            "max_age_hours": settings.EMAIL_VERIFICATION_MAX_AGE // 3600,
        },
    )
    return True


def verify_email(*, token: str) -> User:
    """Marks the address verified. The token works once; afterwards it is a 400 on ``token``."""
    user = email_tokens.user_for_email_verification_token(token)
    if user is None:
        raise InvalidEmailToken()
    updated = User.objects.filter(pk=user.pk, is_email_verified=False).update(
        is_email_verified=True
    )
    if not updated:
        raise InvalidEmailToken()
    user.is_email_verified = True
    return user


# --- Brute-force limit -------------------------------------------------------------------------


def login_retry_after(*, email: str) -> int:
    """Seconds until a password check for ``email`` is allowed again; 0 if allowed now."""
    now = timezone.now()
    window = LoginFailure.objects.filter(
        email=normalise_email(email), occurred_at__gt=now - FAILURE_WINDOW
    )
    limit = settings.LOGIN_MAX_FAILURES_PER_HOUR
    times = list(window.order_by("-occurred_at").values_list("occurred_at", flat=True)[:limit])
    if len(times) < limit:
        return 0
    # Allowed again when the limit-th newest failure leaves the window.
    return max(1, int((times[-1] + FAILURE_WINDOW - now).total_seconds()) + 1)


def _ensure_not_locked(email: str) -> None:
    retry_after = login_retry_after(email=email)
    if retry_after:
        raise TooManyLoginFailures(retry_after=retry_after)


def _record_failure(*, email: str, user: User | None, ip_address: str | None, action: str) -> None:
    email = normalise_email(email)
    LoginFailure.objects.create(email=email, ip_address=ip_address)
    record_event(
        kind=AuditEvent.Kind.SECURITY,
        action=action,
        target_type="accounts.user" if user else "",
        target_id=user.pk if user else "",
        subject_user_id=user.pk if user else None,
        after=None if user else {"account": "unknown"},
        ip_address=ip_address,
    )
    if login_retry_after(email=email):
        record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.lockout",
            target_type="accounts.user" if user else "",
            target_id=user.pk if user else "",
            subject_user_id=user.pk if user else None,
            after={"failures_per_hour": settings.LOGIN_MAX_FAILURES_PER_HOUR},
            ip_address=ip_address,
        )


def record_login_failure(*, email: str, ip_address: str | None, action: str) -> None:
    """Counts a failed password check made outside the API (the admin login) towards the same
    per-account limit, and audits it."""
    known = User.objects.filter(email=normalise_email(email)).first()
    _record_failure(email=email, user=known, ip_address=ip_address, action=action)


def _check_current_password(*, user: User, password: str, ip_address: str | None) -> None:
    """Checks a re-entered password under the same brute-force limit as login."""
    _ensure_not_locked(user.email)
    if not user.check_password(password):
        _record_failure(
            email=user.email, user=user, ip_address=ip_address, action="auth.password_check_failed"
        )
        raise ValidationFailed(fields={"password": ["The password is not correct."]})


# --- Logging in and out ------------------------------------------------------------------------


def log_in(
    *, email: str, password: str, user_agent: str = "", ip_address: str | None = None
) -> dict[str, str]:
    """Checks the credentials and starts a device session: ``{"access", "refresh"}``.

    Unknown address, wrong password and deactivated account all give the same 401.
    """
    email = normalise_email(email)
    _ensure_not_locked(email)
    user = authenticate(None, username=email, password=password)
    if not isinstance(user, User):
        known = User.objects.filter(email=email).first()
        _record_failure(email=email, user=known, ip_address=ip_address, action="auth.login_failed")
        raise InvalidCredentials()
    LoginFailure.objects.filter(email=email).delete()
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return issue_tokens_for(user=user, user_agent=user_agent, ip_address=ip_address)


def log_out(*, user: User, refresh: str, ip_address: str | None = None) -> None:
    """Ends the device session the refresh token belongs to (idempotent).

    The token must be well-signed and unexpired but may already be rotated or revoked. A token
    that is not valid is a 400 on ``refresh``; another user's session is a 404.
    """
    try:
        claims = decode_refresh_token(refresh)
    except InvalidRefreshToken as exc:
        raise ValidationFailed(fields={"refresh": [InvalidRefreshToken.default_message]}) from exc
    if (
        claims[api_settings.USER_ID_CLAIM] != user.pk
        or not AuthSession.objects.filter(pk=claims["sid"], user=user).exists()
    ):
        raise NotFound("No such session.")
    revoke_sessions(
        user=user, session_ids=[claims["sid"]], reason="logout", actor=user, ip_address=ip_address
    )


def revoke_device(*, user: User, device_id: int, ip_address: str | None = None) -> None:
    """Revokes one of the user's active devices; unknown, revoked or not theirs: 404."""
    revoked = revoke_sessions(
        user=user,
        session_ids=[device_id],
        reason="device_revoked",
        actor=user,
        ip_address=ip_address,
    )
    if not revoked:
        raise NotFound("No such device.")


def log_out_everywhere(*, user: User, ip_address: str | None = None) -> int:
    return revoke_sessions(user=user, reason="logout_all", actor=user, ip_address=ip_address)


# --- Passwords -----------------------------------------------------------------------------------


def request_password_reset(*, email: str) -> None:
    """Sends a reset link if an active account has this address; silent otherwise."""
    user = User.objects.filter(email=normalise_email(email), is_active=True).first()
    if user is not None:
        enqueue_after_commit(RESET_EMAIL_TASK, user.pk)


def send_password_reset_email(*, user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    token = email_tokens.make_password_reset_token(user)
    _send_templated_email(
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
    """Sets a new password from a reset link (which then dies) and ends every session."""
    user = email_tokens.user_for_password_reset_token(token)
    if user is None:
        raise InvalidEmailToken()
    errors = _password_errors(password, user)
    if errors:
        raise ValidationFailed(fields={"password": errors})
    with transaction.atomic():
        user.set_password(password)
        # Following the link proves the address is the user's.
        user.is_email_verified = True
        user.save(update_fields=["password", "is_email_verified"])
        LoginFailure.objects.filter(email=user.email).delete()
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
        _check_current_password(user=user, password=current_password, ip_address=ip_address)
    except ValidationFailed as exc:
        raise ValidationFailed(fields={"current_password": ["The password is not correct."]}) from (
            exc
        )
    errors = _password_errors(new_password, user)
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
        record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.password_changed",
            actor=user,
            target=user,
            subject_user_id=user.pk,
            ip_address=ip_address,
        )


# --- Profile and account -------------------------------------------------------------------------


PROFILE_FIELDS = ("display_name", "avatar", "timezone", "prefers_explanations")


def update_profile(*, user: User, **changes: Any) -> Profile:
    """Updates the editable profile fields (``PROFILE_FIELDS``); values are already validated."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: ["This field cannot be changed."] for name in unknown})
    profile, _ = Profile.objects.get_or_create(user=user)
    for name, value in changes.items():
        setattr(profile, name, value)
    if changes:
        profile.save(update_fields=[*changes, "updated_at"])
    return profile


def delete_account(*, user: User, password: str, ip_address: str | None = None) -> None:
    """Deletes the account after re-checking the password (GDPR erasure).

    Every session is revoked first, then the user is deleted; other apps' rows that belong to
    the user go with it through ``on_delete=CASCADE``. The audit trail keeps its events but
    loses the address: they name the account only by its id.
    """
    _check_current_password(user=user, password=password, ip_address=ip_address)
    user_id = user.pk
    try:
        with transaction.atomic():
            revoke_sessions(user=user, reason="account_deleted", ip_address=ip_address)
            record_event(
                kind=AuditEvent.Kind.DATA,
                action="account.deleted",
                target_type="accounts.user",
                target_id=user_id,
                subject_user_id=user_id,
                ip_address=ip_address,
            )
            LoginFailure.objects.filter(email=user.email).delete()
            email = user.email
            user.delete()
            pseudonymise_user(user_id=user_id, email=email)
    except (models.ProtectedError, models.RestrictedError) as exc:
        logger.error("account deletion blocked by protected rows", extra={"user": user_id})
        raise Conflict("The account cannot be deleted right now. Contact support.") from exc


def flush_expired_auth_data() -> dict[str, int]:
    """Deletes expired tokens, long-dead device sessions and stale login failures."""
    from apps.accounts.tokens import flush_expired

    counts = flush_expired()
    stale = timezone.now() - timedelta(days=1)
    counts["login_failures"], _ = LoginFailure.objects.filter(occurred_at__lt=stale).delete()
    return counts
