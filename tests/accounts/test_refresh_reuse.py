"""A replayed refresh token ends the device session (ASVS 5.0 7.2.4, 9.x; OAuth 2.0 Security BCP
4.14.2): the thief's newer token and every access token of the session die with it.

The one exception is a lost race: the same token presented again within
``REFRESH_REUSE_GRACE`` of its rotation (two tabs refreshing at once) is refused but leaves the
session alone; ``tests/accounts/test_concurrency.py`` proves it under real concurrency.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, User
from apps.accounts.tokens import REFRESH_REUSE_GRACE
from apps.audit.models import AuditEvent
from tests.accounts.helpers import bearer, claims, tokens_for

pytestmark = pytest.mark.django_db

START = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)


def refresh(token: str) -> Any:
    return APIClient().post("/api/v1/auth/refresh", {"refresh": token})


def test_replaying_a_rotated_token_revokes_the_session_and_the_thiefs_tokens(
    user: User, time_machine: Any
) -> None:
    time_machine.move_to(START, tick=False)
    stolen = tokens_for(user.email)
    other_device = tokens_for(user.email)  # a second device of the same user
    # The thief rotates first and keeps the new pair.
    thief = refresh(stolen["refresh"]).json()
    assert bearer(thief["access"]).get("/api/v1/me").status_code == 200

    # Later the owner's client presents the token it still holds: reuse.
    time_machine.move_to(START + REFRESH_REUSE_GRACE + timedelta(seconds=1), tick=False)
    reused = refresh(stolen["refresh"])
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"

    # The whole device session is dead: the thief's refresh and access tokens are refused.
    assert refresh(thief["refresh"]).status_code == 401
    assert bearer(thief["access"]).get("/api/v1/me").status_code == 401
    session = AuthSession.objects.get(pk=_sid(user, exclude=other_device))
    assert session.revoked_at is not None
    # Other devices of the user are untouched.
    assert bearer(other_device["access"]).get("/api/v1/me").status_code == 200
    assert refresh(other_device["refresh"]).status_code == 200

    event = AuditEvent.objects.get(action="auth.refresh_reused")
    assert event.subject_user_id == user.pk
    assert event.target_id == str(session.pk)
    assert event.after == {"session_revoked": True}
    revoked = AuditEvent.objects.get(action="auth.sessions_revoked")
    assert revoked.after == {"reason": "refresh_reused", "session_ids": [session.pk]}


def test_a_token_presented_again_within_the_grace_is_refused_but_ends_nothing(
    user: User, time_machine: Any
) -> None:
    time_machine.move_to(START, tick=False)
    first = tokens_for(user.email)
    second = refresh(first["refresh"]).json()
    # A second tab presents the same token a moment later: a lost race, not a theft.
    time_machine.move_to(START + REFRESH_REUSE_GRACE - timedelta(milliseconds=100), tick=False)
    lost = refresh(first["refresh"])
    assert lost.status_code == 401
    assert lost.json()["code"] == "token_not_valid"
    assert AuthSession.objects.get(user=user).revoked_at is None
    assert bearer(second["access"]).get("/api/v1/me").status_code == 200
    event = AuditEvent.objects.get(action="auth.refresh_reused")
    assert event.after == {"session_revoked": False}
    assert not AuditEvent.objects.filter(action="auth.sessions_revoked").exists()
    # The winner's token goes on working.
    assert refresh(second["refresh"]).status_code == 200


def test_an_older_token_than_the_last_rotated_one_is_reuse_even_within_the_grace(
    user: User, time_machine: Any
) -> None:
    """The grace covers only the token rotated moments ago; a token that died long ago is
    reuse whenever it comes back."""
    time_machine.move_to(START, tick=False)
    first = tokens_for(user.email)
    second = refresh(first["refresh"]).json()
    time_machine.move_to(START + timedelta(minutes=10), tick=False)
    third = refresh(second["refresh"]).json()
    time_machine.move_to(START + timedelta(minutes=10, milliseconds=500), tick=False)
    assert refresh(first["refresh"]).status_code == 401
    assert AuthSession.objects.get(user=user).revoked_at is not None
    assert bearer(third["access"]).get("/api/v1/me").status_code == 401


def test_presenting_a_token_of_an_ended_session_is_refused_without_a_reuse_event(
    user: User,
) -> None:
    pair = tokens_for(user.email)
    bearer(pair["access"]).post("/api/v1/auth/logout", {"refresh": pair["refresh"]})
    assert refresh(pair["refresh"]).status_code == 401
    assert not AuditEvent.objects.filter(action="auth.refresh_reused").exists()


def _sid(user: User, *, exclude: dict[str, str]) -> int:
    excluded = claims(exclude["refresh"])["sid"]
    return AuthSession.objects.filter(user=user).exclude(pk=excluded).get().pk
