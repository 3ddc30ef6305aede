"""The profile, the deletion of an account (GDPR erasure) and the nightly flush of dead
authentication data."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from apps.accounts.models import (
    KnownDevice,
    KnownNetwork,
    LoginFailure,
    Profile,
    RateLimitHit,
    User,
)
from apps.accounts.services import trust
from apps.accounts.services.limits import check_current_password
from apps.accounts.tokens import revoke_sessions
from apps.audit.models import AuditEvent
from apps.audit.services import pseudonymise_user, record_event
from apps.core.exceptions import Conflict, ValidationFailed

logger = logging.getLogger("apps.accounts")

PROFILE_FIELDS = (
    "display_name",
    "avatar",
    "timezone",
    "prefers_explanations",
    "exam_sitting",
    "desired_retention",
    "daily_review_limit",
    "daily_new_limit",
)


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
    check_current_password(user=user, password=password, ip_address=ip_address)
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
    """Deletes expired tokens, long-dead device sessions, stale login failures and rate-limit
    counts, unlock links no longer usable, and devices and networks no longer known."""
    from apps.accounts.tokens import flush_expired

    counts = flush_expired()
    now = timezone.now()
    stale = now - timedelta(days=1)
    counts["login_failures"], _ = LoginFailure.objects.filter(occurred_at__lt=stale).delete()
    # The longest durable window is a day ("x/day" throttle rates); keep one more.
    counts["rate_limit_hits"], _ = RateLimitHit.objects.filter(
        occurred_at__lt=now - timedelta(days=2)
    ).delete()
    counts["known_devices"], _ = KnownDevice.objects.filter(
        models.Q(token_hash__isnull=True, created_at__lt=now - trust.UNLOCK_LINK_MAX_AGE)
        | models.Q(last_used_at__lt=now - trust.KNOWN_DEVICE_LIFETIME)
    ).delete()
    counts["known_networks"], _ = KnownNetwork.objects.filter(
        last_login_at__lt=now - trust.KNOWN_NETWORK_LIFETIME
    ).delete()
    return counts
