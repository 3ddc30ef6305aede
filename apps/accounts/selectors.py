"""Reads for accounts: the caller's profile and active devices."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import AuthSession, Profile, User


def profile_for(user: User) -> Profile:
    """The user's profile (already loaded by authentication), created if missing."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        profile, _ = Profile.objects.get_or_create(user=user)
        return profile


def active_devices_for(user: User) -> QuerySet[AuthSession]:
    """The user's live device sessions, most recently used first."""
    return AuthSession.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at", "-id")
