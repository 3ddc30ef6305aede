"""Reads for accounts: the caller's profile and active devices."""

from __future__ import annotations

from functools import cache

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import AuthSession, Profile, User
from apps.core import sql


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


def user_for_session(*, user_id: int, session_id: int) -> User | None:
    """The active user whose device session ``session_id`` is alive (not revoked, not past its
    absolute expiry), with the profile loaded; ``None`` otherwise.

    Runs on every authenticated request, so the statement is written out (apps/core/sql.py):
    the ORM spent longer building this join than PostgreSQL spends running it."""
    row = sql.fetch_one(_session_user_sql(), [user_id, True, session_id, timezone.now()])
    if row is None:
        return None
    user, profile = sql.instances_from_row(row, User, Profile)
    assert isinstance(user, User)  # nosec B101 # the join found the user's row
    # As ``select_related("profile")`` would: ``user.profile`` then costs no query.
    User.profile.related.set_cached_value(user, profile)
    if profile is not None:
        Profile.user.field.set_cached_value(profile, user)
    return user


@cache
def _session_user_sql() -> str:
    return (
        f"SELECT {sql.columns(User, 'u')}, {sql.columns(Profile, 'p')} "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"FROM {sql.quote(User._meta.db_table)} u "
        f"JOIN {sql.quote(AuthSession._meta.db_table)} s ON s.user_id = u.id "
        f"LEFT JOIN {sql.quote(Profile._meta.db_table)} p ON p.user_id = u.id "
        "WHERE u.id = %s AND u.is_active = %s AND s.id = %s "
        "AND s.revoked_at IS NULL AND s.expires_at > %s"
    )
