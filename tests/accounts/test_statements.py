"""The written-out authentication lookup, run beside the queryset it stands for on the same data:
a model change that breaks it fails here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import AuthSession, Profile, User
from apps.accounts.selectors import user_for_session
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _orm(*, user_id: int, session_id: int, now: datetime) -> User | None:
    """What :data:`apps.accounts.statements.SESSION_USER` stands for."""
    return (
        User.objects.select_related("profile")
        .filter(
            id=user_id,
            is_active=True,
            auth_sessions__id=session_id,
            auth_sessions__revoked_at__isnull=True,
            auth_sessions__expires_at__gt=now,
        )
        .first()
    )


def _fields(instance: models.Model | None) -> dict[str, Any] | None:
    if instance is None:
        return None
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _profile(user: User) -> Profile | None:
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def _session(user: User, **kw: Any) -> AuthSession:
    kw.setdefault("expires_at", timezone.now() + timedelta(days=14))
    return AuthSession.objects.create(user=user, refresh_jti=f"jti-{user.pk}-{len(kw)}", **kw)


def test_the_session_lookup_is_its_queryset(db: Any) -> None:
    now = timezone.now()
    alive, other, inactive, no_profile = (UserFactory() for _ in range(4))
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    Profile.objects.filter(user=no_profile).delete()
    Profile.objects.filter(user=alive).update(timezone="Asia/Tokyo", display_name="Ada")
    sessions = {
        "live": _session(alive),
        "revoked": _session(alive, revoked_at=now - timedelta(minutes=1)),
        "expired": _session(alive, expires_at=now - timedelta(seconds=1)),
        "other's": _session(other),
        "inactive": _session(inactive),
        "no profile": _session(no_profile),
    }
    cases = [(alive, s) for s in sessions.values()] + [
        (who, sessions[name])
        for who, name in ((other, "other's"), (inactive, "inactive"), (no_profile, "no profile"))
    ]
    found = 0
    for who, session in cases:
        with CaptureQueriesContext(connection) as ctx:
            written = user_for_session(user_id=who.pk, session_id=session.pk)
        assert len(ctx.captured_queries) == 1
        orm = _orm(user_id=who.pk, session_id=session.pk, now=timezone.now())
        assert _fields(written) == _fields(orm), (who, session)
        if written is None or orm is None:
            continue
        found += 1
        with CaptureQueriesContext(connection) as ctx:  # the profile came with the user
            assert _fields(_profile(written)) == _fields(_profile(orm))
        assert ctx.captured_queries == []
        profile = _profile(written)
        assert profile is None or profile.user is written
    assert found == 3  # the live session, the other user's own, the one without a profile
