"""Issuing JWTs bound to an :class:`AuthSession` (a device)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import AuthSession, User


def issue_tokens_for(
    *, user: User, user_agent: str = "", ip_address: str | None = None
) -> dict[str, str]:
    """Starts a new device session and returns ``{"access", "refresh"}`` for it."""
    now = timezone.now()
    session = AuthSession.objects.create(
        user=user,
        refresh_jti="",
        user_agent=user_agent[:300],
        ip_address=ip_address,
        created_at=now,
        last_used_at=now,
        expires_at=now + settings.AUTH_SESSION_ABSOLUTE_LIFETIME,
    )
    refresh = RefreshToken.for_user(user)
    refresh["sid"] = session.pk
    session.refresh_jti = str(refresh["jti"])
    session.save(update_fields=["refresh_jti"])
    access = refresh.access_token
    access["sid"] = session.pk
    return {"access": str(access), "refresh": str(refresh)}
