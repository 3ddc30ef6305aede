"""Accounts services, token mechanics and the flush task, below the HTTP layer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts import email_tokens, services, tasks, tokens
from apps.accounts.models import (
    AuthSession,
    KnownDevice,
    KnownNetwork,
    LoginFailure,
    RateLimitHit,
    User,
)
from apps.accounts.permissions import IsEditor, has_role
from apps.audit.models import AuditEvent
from apps.core.exceptions import NotFound, TooManyRequests, ValidationFailed
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.accounts.helpers import claims

pytestmark = pytest.mark.django_db


def test_issue_tokens_records_an_outstanding_token_without_its_text(user: User) -> None:
    pair = tokens.issue_tokens_for(user=user, user_agent="x" * 400, ip_address="::1")
    outstanding = OutstandingToken.objects.get(user=user)
    assert outstanding.jti == claims(pair["refresh"])["jti"]
    assert outstanding.token == ""
    session = AuthSession.objects.get(user=user)
    assert len(session.user_agent) == 300
    assert session.ip_address == "::1"


def test_revoke_sessions_counts_blacklists_and_audits(user: User, other_user: User) -> None:
    first = tokens.issue_tokens_for(user=user)
    second = tokens.issue_tokens_for(user=user)
    tokens.issue_tokens_for(user=other_user)
    keep = claims(second["refresh"])["sid"]
    assert tokens.revoke_sessions(user=user, except_session_id=keep, reason="test") == 1
    assert tokens.revoke_sessions(user=user, except_session_id=keep, reason="test") == 0
    assert BlacklistedToken.objects.filter(token__jti=claims(first["refresh"])["jti"]).exists()
    assert AuthSession.objects.filter(revoked_at__isnull=True).count() == 2
    event = AuditEvent.objects.get(action="auth.sessions_revoked")
    assert event.after == {"reason": "test", "session_ids": [claims(first["refresh"])["sid"]]}


def test_revoke_device_of_another_user_is_not_found(user: User, other_user: User) -> None:
    theirs = claims(tokens.issue_tokens_for(user=other_user)["refresh"])["sid"]
    with pytest.raises(NotFound):
        services.revoke_device(user=user, device_id=theirs)
    assert AuthSession.objects.get(pk=theirs).revoked_at is None


def test_login_retry_after_counts_only_the_last_hour(settings: Any, time_machine: Any) -> None:
    settings.LOGIN_MAX_FAILURES_PER_HOUR = 2
    now = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    LoginFailure.objects.create(email="a@example.com", occurred_at=now - timedelta(minutes=90))
    LoginFailure.objects.create(email="a@example.com", occurred_at=now - timedelta(minutes=30))
    assert services.login_retry_after(email="A@example.com") == 0
    LoginFailure.objects.create(email="a@example.com", occurred_at=now - timedelta(minutes=10))
    # Allowed again when the older of the two recent failures leaves the window (30 min).
    assert services.login_retry_after(email="a@example.com") == 30 * 60 + 1


def test_wrong_current_password_counts_towards_the_limit(settings: Any, user: User) -> None:
    settings.LOGIN_MAX_FAILURES_PER_HOUR = 2
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            services.delete_account(user=user, password="wrong password!!")
    with pytest.raises(TooManyRequests):
        services.delete_account(user=user, password=DEFAULT_PASSWORD)
    assert User.objects.filter(pk=user.pk).exists()


def test_delete_account_removes_user_profile_and_sessions(user: User) -> None:
    tokens.issue_tokens_for(user=user)
    services.delete_account(user=user, password=DEFAULT_PASSWORD)
    assert not User.objects.exists()
    assert not AuthSession.objects.exists()
    event = AuditEvent.objects.get(action="account.deleted")
    assert event.actor is None
    assert event.kind == AuditEvent.Kind.DATA


def test_verification_token_is_bound_to_the_address(user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_email_verified=False)
    user.refresh_from_db()
    token = email_tokens.make_email_verification_token(user)
    assert email_tokens.user_for_email_verification_token(token) == user
    User.objects.filter(pk=user.pk).update(email="changed@example.com")
    assert email_tokens.user_for_email_verification_token(token) is None


def test_reset_token_dies_after_a_login(user: User) -> None:
    token = email_tokens.make_password_reset_token(user)
    assert email_tokens.user_for_password_reset_token(token) == user
    services.log_in(email=user.email, password=DEFAULT_PASSWORD)
    assert email_tokens.user_for_password_reset_token(token) is None
    assert email_tokens.user_for_password_reset_token("garbage") is None
    assert email_tokens.user_for_password_reset_token("!!.x") is None


def test_verification_email_is_not_sent_to_verified_users(user: User) -> None:
    assert tasks.send_verification_email_task(user.pk) is False
    assert tasks.send_password_reset_email_task(999_999) is False
    assert mail.outbox == []


def test_flush_expired_tokens_deletes_only_dead_rows_and_is_idempotent(
    user: User, time_machine: Any
) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    old = tokens.issue_tokens_for(user=user)
    revoked = tokens.issue_tokens_for(user=user)
    tokens.revoke_sessions(
        user=user, session_ids=[claims(revoked["refresh"])["sid"]], reason="test"
    )
    LoginFailure.objects.create(email=user.email, occurred_at=start)
    RateLimitHit.objects.create(bucket="b", occurred_at=start)
    KnownDevice.objects.create(user=user, token_hash=None, created_at=start)  # unlock link
    ancient = start - timedelta(days=150)  # 211 days before the flush
    KnownDevice.objects.create(user=user, token_hash="a" * 64, last_used_at=ancient)
    KnownNetwork.objects.create(user=user, network="10.0.0.0/24", last_login_at=ancient)

    later = start + settings.AUTH_SESSION_ABSOLUTE_LIFETIME + settings.AUTH_SESSION_RETENTION
    time_machine.move_to(later + timedelta(days=1), tick=False)
    fresh = tokens.issue_tokens_for(user=user)
    LoginFailure.objects.create(email=user.email)
    RateLimitHit.objects.create(bucket="b")
    KnownDevice.objects.create(user=user, token_hash=None)
    KnownDevice.objects.create(user=user, token_hash="b" * 64)
    KnownNetwork.objects.create(user=user, network="10.0.1.0/24")

    result = tasks.flush_expired_tokens.delay().get()
    assert result["sessions"] == 2
    assert result["login_failures"] == 1
    assert result["rate_limit_hits"] == 1
    # The old pending unlock link and the device unused for 180 days; networks after 90 days.
    assert result["known_devices"] == 2
    assert result["known_networks"] == 1
    assert list(AuthSession.objects.values_list("pk", flat=True)) == [
        claims(fresh["refresh"])["sid"]
    ]
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [
        claims(fresh["refresh"])["jti"]
    ]
    assert not OutstandingToken.objects.filter(jti=claims(old["refresh"])["jti"]).exists()
    assert LoginFailure.objects.count() == 1
    assert RateLimitHit.objects.count() == 1
    assert KnownDevice.objects.count() == 2
    assert KnownNetwork.objects.count() == 1
    again = tasks.flush_expired_tokens()
    assert again == {
        "tokens": 0,
        "sessions": 0,
        "login_failures": 0,
        "rate_limit_hits": 0,
        "known_devices": 0,
        "known_networks": 0,
    }


def test_flush_keeps_recently_revoked_sessions_for_the_retention_period(
    user: User, time_machine: Any
) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    pair = tokens.issue_tokens_for(user=user)
    tokens.revoke_sessions(user=user, reason="test")
    time_machine.move_to(start + timedelta(days=15), tick=False)  # refresh token expired (14 d)
    result = tasks.flush_expired_tokens()
    assert result["tokens"] >= 1
    assert AuthSession.objects.filter(pk=claims(pair["refresh"])["sid"]).exists()


@pytest.mark.parametrize(
    ("role", "editor"), [("user", False), ("editor", True), ("examiner", False), ("admin", True)]
)
def test_role_checks(role: str, editor: bool) -> None:
    user = UserFactory(role=role)
    assert has_role(user, "editor") is editor

    class Request:
        pass

    request = Request()
    request.user = user
    assert IsEditor().has_permission(request, None) is editor


def test_verification_link_does_not_carry_the_address(user: User) -> None:
    import base64

    token = email_tokens.make_email_verification_token(user)
    payload = token.split(":")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert user.email not in decoded
    assert user.email.split("@")[0] not in token
