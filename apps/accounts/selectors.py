"""Reads for accounts: the caller's profile, active devices and two-factor status."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import AuthSession, Profile, User
from apps.accounts.statements import SESSION_USER
from apps.core import sql


def profile_for(user: User) -> Profile:
    """The user's profile (already loaded by authentication), created if missing."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        profile, _ = Profile.objects.get_or_create(user=user)
        return profile


def totp_status_for(user: User) -> dict[str, bool]:
    """Whether two-factor sign-in is on (a confirmed device) and an enrolment awaits a code."""
    confirmed = set(TOTPDevice.objects.filter(user=user).values_list("confirmed", flat=True))
    return {"enabled": True in confirmed, "pending": False in confirmed and True not in confirmed}


def active_devices_for(user: User) -> QuerySet[AuthSession]:
    """The user's live device sessions, most recently used first."""
    return AuthSession.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at", "-id")


def user_for_session(*, user_id: int, session_id: int) -> User | None:
    """The active user whose device session ``session_id`` is alive (not revoked, not past its
    absolute expiry), with the profile loaded; ``None`` otherwise.

    Runs on every authenticated request, so the statement is written out
    (:data:`apps.accounts.statements.SESSION_USER`): the ORM spent longer building this join
    than PostgreSQL spends running it."""
    rows = sql.fetch_rows(
        SESSION_USER, {"user_id": user_id, "session_id": session_id, "now": timezone.now()}
    )
    if not rows:
        return None
    user = sql.model_from_row(rows[0], User, prefix="u")
    assert user is not None  # nosec B101 # the join found the user's row
    profile = sql.model_from_row(rows[0], Profile, prefix="p")
    # As ``select_related("profile")`` would: ``user.profile`` then costs no query.
    User.profile.related.set_cached_value(user, profile)
    if profile is not None:
        Profile.user.field.set_cached_value(profile, user)
    return user
