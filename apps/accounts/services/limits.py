"""The brute-force limit: failed password checks per address, in PostgreSQL (so the limit holds
with Redis down), and the re-entered password checked under the same limit as login."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import LoginFailure, User
from apps.accounts.services.common import TooManyLoginFailures, normalise_email
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import ValidationFailed

FAILURE_WINDOW = timedelta(hours=1)


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


def ensure_not_locked(email: str) -> None:
    retry_after = login_retry_after(email=email)
    if retry_after:
        raise TooManyLoginFailures(retry_after=retry_after)


def record_failure(*, email: str, user: User | None, ip_address: str | None, action: str) -> None:
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
    record_failure(email=email, user=known, ip_address=ip_address, action=action)


def check_current_password(*, user: User, password: str, ip_address: str | None) -> None:
    """Checks a re-entered password under the same brute-force limit as login."""
    ensure_not_locked(user.email)
    if not user.check_password(password):
        record_failure(
            email=user.email, user=user, ip_address=ip_address, action="auth.password_check_failed"
        )
        raise ValidationFailed(fields={"password": ["The password is not correct."]})
