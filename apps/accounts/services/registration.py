"""Registration and email verification."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.accounts import email_tokens
from apps.accounts.models import Profile, User
from apps.accounts.services.common import (
    InvalidEmailToken,
    normalise_email,
    password_errors,
    send_templated_email,
)
from apps.core.exceptions import ValidationFailed
from apps.core.queue import enqueue_after_commit

# Sent from a worker. The task (``apps/accounts/tasks.py``) calls back into this package, so it
# is enqueued by name and never imported here.
VERIFICATION_EMAIL_TASK = "accounts.send_verification_email"


def register_user(*, email: str, password: str, display_name: str = "") -> User:
    """Creates an unverified user and their profile; the verification email is sent once the
    transaction commits. A taken address is a 400 on ``email``."""
    email = normalise_email(email)
    candidate = User(email=email)
    errors = password_errors(password, candidate)
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
