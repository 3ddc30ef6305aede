"""What every accounts service shares: its errors, the address's normal form, password rules
and the templated emails."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import TooManyRequests, Unauthorized, ValidationFailed


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


def password_errors(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def send_templated_email(*, user: User, template: str, context: dict[str, Any]) -> None:
    context = {"user": user, "frontend_url": settings.FRONTEND_URL, **context}
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
    text = render_to_string(f"accounts/email/{template}.txt", context)
    html = render_to_string(f"accounts/email/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()


def record_own_security_event(*, user: User, action: str, ip_address: str | None) -> None:
    """Audits a security change the user made to their own account (ASVS 16.3)."""
    record_event(
        kind=AuditEvent.Kind.SECURITY,
        action=action,
        actor=user,
        target=user,
        subject_user_id=user.pk,
        ip_address=ip_address,
    )
