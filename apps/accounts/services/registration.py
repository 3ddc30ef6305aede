"""Registration and email verification.

Registering must not reveal whether an address has an account (ASVS 5.0 6.3.8): a taken address
gets the same reply as a new one, the password is hashed all the same (so the reply takes about
as long), nothing is created or changed, and the owner is emailed instead ("someone tried to
sign up with your address: sign in or reset your password"), at most once an hour per account,
counted in PostgreSQL so that registering cannot be turned into a mail bomb even with Redis
down. Each such attempt is audited.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from apps.accounts import email_tokens
from apps.accounts.models import Profile, User
from apps.accounts.services.common import (
    InvalidEmailToken,
    normalise_email,
    password_errors,
    send_templated_email,
)
from apps.accounts.services.limits import take_durable_slot
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import ValidationFailed
from apps.core.queue import enqueue_after_commit

# Sent from a worker. The task (``apps/accounts/tasks.py``) calls back into this package, so it
# is enqueued by name and never imported here.
VERIFICATION_EMAIL_TASK = "accounts.send_verification_email"
REGISTRATION_ATTEMPT_EMAIL_TASK = "accounts.send_registration_attempt_email"
# How often the owner of a taken address may be told of sign-up attempts with it.
REGISTRATION_ATTEMPT_EMAIL_WINDOW = timedelta(hours=1)


def register_user(
    *, email: str, password: str, display_name: str = "", ip_address: str | None = None
) -> str:
    """Creates an unverified user and their profile, the verification email sent once the
    transaction commits; returns the normalised address, all the caller may echo.

    A taken address (case-insensitively) changes nothing and tells nothing: see the module
    docstring. A weak password is a 400 on ``password`` whether or not the address is taken.
    """
    email = normalise_email(email)
    errors = password_errors(password, User(email=email))
    if errors:
        raise ValidationFailed(fields={"password": errors})
    owner = User.objects.filter(email__iexact=email).first()
    if owner is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password)
                Profile.objects.create(user=user, display_name=display_name.strip())
        except IntegrityError:
            # A concurrent registration of the same address won (our hash is already done).
            owner = User.objects.filter(email__iexact=email).first()
        else:
            enqueue_after_commit(VERIFICATION_EMAIL_TASK, user.pk)
            return email
    else:
        make_password(password)  # the hashing work of a new account, so the time tells nothing
    if owner is not None:
        _tell_owner_of_attempt(owner=owner, ip_address=ip_address)
    return email


def _tell_owner_of_attempt(*, owner: User, ip_address: str | None) -> None:
    emailed = owner.is_active and not take_durable_slot(
        bucket=f"registration-attempt:{owner.pk}",
        limit=1,
        window=REGISTRATION_ATTEMPT_EMAIL_WINDOW,
    )
    record_event(
        kind=AuditEvent.Kind.SECURITY,
        action="auth.registration_attempt_on_taken_address",
        target=owner,
        subject_user_id=owner.pk,
        after={"owner_emailed": emailed},
        ip_address=ip_address,
    )
    if emailed:
        enqueue_after_commit(REGISTRATION_ATTEMPT_EMAIL_TASK, owner.pk)


def send_registration_attempt_email(*, user_id: int) -> bool:
    """Tells an account's owner that someone tried to sign up with their address; False
    (nothing sent) if the account is gone or deactivated."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    send_templated_email(
        user=user,
        template="registration_attempt",
        context={
            "login_link": f"{settings.FRONTEND_URL}/login",
            "reset_link": f"{settings.FRONTEND_URL}/forgot-password",
        },
    )
    return True


def send_verification_email(*, user_id: int) -> bool:
    """Sends a fresh verification link; False (nothing sent) if the user is gone or verified."""
    user = User.objects.filter(pk=user_id, is_active=True, is_email_verified=False).first()
    if user is None:
        return False
    token = email_tokens.make_email_verification_token(user)
    send_templated_email(
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
