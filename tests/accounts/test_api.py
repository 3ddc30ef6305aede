"""Auth and profile endpoints through real HTTP requests, real JWTs and real PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from apps.accounts.models import AuthSession, LoginFailure, Profile, Role, User
from apps.audit.models import AuditEvent
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.accounts.helpers import bearer, claims, forge, login, tokens_for

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a much longer passphrase 2024"


def assert_envelope(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) <= {"code", "message", "fields"}
    assert isinstance(body["code"], str)
    assert isinstance(body["message"], str)
    if code is not None:
        assert body["code"] == code
    return body


def token_from(message: mail.EmailMessage) -> str:
    match = re.search(r"token=([^\s&\"]+)", message.body)
    assert match, message.body
    from urllib.parse import unquote

    return unquote(match.group(1))


# --- register ------------------------------------------------------------------------------------


def test_register_creates_user_profile_and_sends_verification_email(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register",
            {"email": "New.Person@Example.com", "password": NEW_PASSWORD, "display_name": "Ann"},
        )
    assert response.status_code == 201, response.content
    user = User.objects.get()
    assert response.json()["email"] == "new.person@example.com"
    assert response.json()["id"] is None  # a taken address gets the same reply (test_registration)
    assert user.check_password(NEW_PASSWORD)
    assert not user.is_email_verified
    assert user.profile.display_name == "Ann"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.com"]
    assert "verify-email?token=" in message.body
    assert message.alternatives
    assert message.alternatives[0][1] == "text/html"
    assert NEW_PASSWORD not in message.body


def test_register_with_trailing_slash_works(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "slash@example.com", "password": NEW_PASSWORD}
    )
    assert response.status_code == 201


def test_register_with_a_taken_email_creates_nothing_case_insensitively(
    api_client: APIClient, user: User
) -> None:
    response = api_client.post(
        "/api/v1/auth/register", {"email": user.email.upper(), "password": NEW_PASSWORD}
    )
    assert response.status_code == 201  # the same reply as a new address: tests/accounts/
    assert response.json()["email"] == user.email  # test_registration.py
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pass", "too short"),
        ("password1234", "too common"),
        ("x" * 129, "too long"),
    ],
)
def test_register_enforces_password_policy(
    api_client: APIClient, password: str, reason: str
) -> None:
    response = api_client.post(
        "/api/v1/auth/register", {"email": "weak@example.com", "password": password}
    )
    body = assert_envelope(response, 400, "validation_error")
    assert "password" in body["fields"], reason
    assert not User.objects.exists()
    assert not Profile.objects.exists()


def test_register_accepts_long_passphrases_without_composition_rules(api_client: APIClient) -> None:
    passphrase = "all lower case words only " * 4  # 104 characters, no digits or symbols
    response = api_client.post(
        "/api/v1/auth/register", {"email": "long@example.com", "password": passphrase}
    )
    assert response.status_code == 201, response.content


def test_register_missing_fields_are_reported(api_client: APIClient) -> None:
    body = assert_envelope(api_client.post("/api/v1/auth/register", {}), 400, "validation_error")
    assert set(body["fields"]) == {"email", "password"}


def test_register_ignores_a_stale_authorization_header(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api_client.post(
        "/api/v1/auth/register", {"email": "stale@example.com", "password": NEW_PASSWORD}
    )
    assert response.status_code == 201


# --- verify email --------------------------------------------------------------------------------


def _register(client: APIClient, capture: Any, email: str = "verify@example.com") -> User:
    with capture(execute=True):
        response = client.post("/api/v1/auth/register", {"email": email, "password": NEW_PASSWORD})
    assert response.status_code == 201
    return User.objects.get(email=email)


def test_verify_email_works_once(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    user = _register(api_client, django_capture_on_commit_callbacks)
    token = token_from(mail.outbox[-1])
    response = api_client.post("/api/v1/auth/verify-email", {"token": token})
    assert response.status_code == 200
    assert response.json() == {"detail": "Email address verified."}
    user.refresh_from_db()
    assert user.is_email_verified
    again = api_client.post("/api/v1/auth/verify-email", {"token": token})
    assert "token" in assert_envelope(again, 400, "validation_error")["fields"]


def test_verify_email_token_expires(
    api_client: APIClient, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    time_machine.move_to(datetime(2030, 1, 1, tzinfo=UTC), tick=False)
    user = _register(api_client, django_capture_on_commit_callbacks)
    token = token_from(mail.outbox[-1])
    time_machine.move_to(datetime(2030, 1, 5, tzinfo=UTC), tick=False)
    response = api_client.post("/api/v1/auth/verify-email", {"token": token})
    assert_envelope(response, 400, "validation_error")
    user.refresh_from_db()
    assert not user.is_email_verified


@pytest.mark.parametrize("payload", [{}, {"token": ""}, {"token": "forged:token:value"}])
def test_verify_email_bad_input(api_client: APIClient, payload: dict[str, str]) -> None:
    body = assert_envelope(api_client.post("/api/v1/auth/verify-email", payload), 400)
    assert "token" in body["fields"]


# --- login ---------------------------------------------------------------------------------------


def test_login_returns_tokens_and_records_the_device(api_client: APIClient, user: User) -> None:
    response = login(
        api_client, user.email.upper(), HTTP_USER_AGENT="pytest-browser/1.0", REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "device_token"}
    access, refresh = claims(body["access"]), claims(body["refresh"])
    assert access["token_type"] == "access"
    assert refresh["token_type"] == "refresh"
    assert access["aud"] == "openmrcs-api"
    assert access["iss"] == "openmrcs"
    session = AuthSession.objects.get(user=user)
    assert access["sid"] == refresh["sid"] == session.pk
    assert session.refresh_jti == refresh["jti"]
    assert session.user_agent == "pytest-browser/1.0"
    assert session.ip_address == "10.1.2.3"
    user.refresh_from_db()
    assert user.last_login is not None
    assert bearer(body["access"]).get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("case", ["wrong_password", "unknown_email", "inactive"])
def test_login_failures_are_indistinguishable_401s(
    api_client: APIClient, user: User, case: str
) -> None:
    email, password = user.email, DEFAULT_PASSWORD
    if case == "wrong_password":
        password = "not the right password"
    elif case == "unknown_email":
        email = "nobody@example.com"
    else:
        User.objects.filter(pk=user.pk).update(is_active=False)
    body = assert_envelope(login(api_client, email, password), 401, "invalid_credentials")
    assert body["message"] == "The email or password is not correct."
    assert not AuthSession.objects.exists()


def test_a_successful_login_is_an_audit_event(api_client: APIClient, user: User) -> None:
    """ASVS 16.3.1: who signed in, when, from where, into which device session."""
    body = login(api_client, user.email, REMOTE_ADDR="10.1.2.3").json()
    event = AuditEvent.objects.get(action="auth.login")
    assert event.kind == AuditEvent.Kind.SECURITY
    assert event.actor_id == event.subject_user_id == user.pk
    assert event.target_type == "accounts.user"
    assert event.target_id == str(user.pk)
    assert event.ip_address == "10.1.2.3"
    assert event.after == {"session_id": claims(body["refresh"])["sid"], "source": "new"}
    assert DEFAULT_PASSWORD not in str(event.after)
    # A failed login is not a login event.
    login(api_client, user.email, "not the password at all")
    assert AuditEvent.objects.filter(action="auth.login").count() == 1


def test_login_failure_is_audited_without_the_password(api_client: APIClient, user: User) -> None:
    login(api_client, user.email, "secret-guess-123456")
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.subject_user_id == user.pk
    assert "secret-guess" not in str(
        AuditEvent.objects.values_list("before", "after", "actor_label").get()
    )


def test_login_bad_input(api_client: APIClient) -> None:
    body = assert_envelope(api_client.post("/api/v1/auth/login", {"email": "x"}), 400)
    assert set(body["fields"]) == {"password"}


# --- brute force -------------------------------------------------------------------------------


@pytest.fixture
def three_failures(settings: Any) -> int:
    settings.LOGIN_MAX_FAILURES_PER_HOUR = 3
    return 3


def test_account_is_locked_after_failures_even_with_the_right_password(
    api_client: APIClient, user: User, other_user: User, three_failures: int, time_machine: Any
) -> None:
    time_machine.move_to(datetime(2030, 3, 1, 12, 0, tzinfo=UTC), tick=False)
    for _ in range(three_failures):
        assert login(api_client, user.email, "wrong password guess").status_code == 401
    locked = login(api_client, user.email)
    assert_envelope(locked, 429, "too_many_login_failures")
    assert 3500 <= int(locked["Retry-After"]) <= 3601
    assert AuditEvent.objects.filter(action="auth.lockout", subject_user_id=user.pk).count() == 1
    # Another account is not affected.
    assert login(api_client, other_user.email).status_code == 200
    # No permanent lockout: once the failures leave the one-hour window, login works again.
    time_machine.move_to(datetime(2030, 3, 1, 13, 0, 5, tzinfo=UTC), tick=False)
    assert login(api_client, user.email).status_code == 200
    assert not LoginFailure.objects.filter(email=user.email).exists()


def test_unknown_addresses_lock_the_same_way(api_client: APIClient, three_failures: int) -> None:
    for _ in range(three_failures):
        assert login(api_client, "ghost@example.com", "whatever it is").status_code == 401
    assert login(api_client, "ghost@example.com", "whatever it is").status_code == 429


def test_scoped_login_throttle_answers_429_with_retry_after(
    api_client: APIClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "2/min"})
    assert login(api_client, user.email).status_code == 200
    assert login(api_client, user.email).status_code == 200
    response = login(api_client, user.email)
    assert_envelope(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


# --- refresh -------------------------------------------------------------------------------------


def test_refresh_rotates_and_the_old_token_dies(api_client: APIClient, user: User) -> None:
    first = tokens_for(user.email)
    response = api_client.post("/api/v1/auth/refresh", {"refresh": first["refresh"]})
    assert response.status_code == 200, response.content
    second = response.json()
    assert set(second) == {"access", "refresh"}
    assert claims(second["refresh"])["sid"] == claims(first["refresh"])["sid"]
    assert bearer(second["access"]).get("/api/v1/me").status_code == 200
    reused = api_client.post("/api/v1/auth/refresh", {"refresh": first["refresh"]})
    assert_envelope(reused, 401, "token_not_valid")
    assert BlacklistedToken.objects.filter(token__jti=claims(first["refresh"])["jti"]).exists()
    assert AuditEvent.objects.filter(action="auth.refresh_reused").exists()
    # Replayed at once (a lost race, see test_refresh_reuse.py): the new refresh token still works.
    assert (
        api_client.post("/api/v1/auth/refresh", {"refresh": second["refresh"]}).status_code == 200
    )


def test_refresh_refuses_an_access_token_and_garbage(api_client: APIClient, user: User) -> None:
    pair = tokens_for(user.email)
    assert_envelope(api_client.post("/api/v1/auth/refresh", {"refresh": pair["access"]}), 401)
    assert_envelope(api_client.post("/api/v1/auth/refresh", {"refresh": "abc.def.ghi"}), 401)
    body = assert_envelope(api_client.post("/api/v1/auth/refresh", {}), 400)
    assert "refresh" in body["fields"]


def test_refresh_never_extends_the_absolute_session_lifetime(
    api_client: APIClient, user: User, time_machine: Any
) -> None:
    start = datetime(2030, 6, 1, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    refresh = tokens_for(user.email)["refresh"]
    session = AuthSession.objects.get(user=user)
    assert session.expires_at == start + timedelta(days=30)
    for day in (10, 20, 29):
        time_machine.move_to(start + timedelta(days=day), tick=False)
        response = api_client.post("/api/v1/auth/refresh", {"refresh": refresh})
        assert response.status_code == 200, (day, response.content)
        refresh = response.json()["refresh"]
        assert claims(refresh)["exp"] <= int(session.expires_at.timestamp())
        access = response.json()["access"]
    session.refresh_from_db()
    assert session.expires_at == start + timedelta(days=30)
    time_machine.move_to(start + timedelta(days=30, minutes=1), tick=False)
    assert_envelope(api_client.post("/api/v1/auth/refresh", {"refresh": refresh}), 401)
    assert_envelope(bearer(access).get("/api/v1/me"), 401)


def test_refresh_for_a_deactivated_user_is_refused(api_client: APIClient, user: User) -> None:
    pair = tokens_for(user.email)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert_envelope(api_client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}), 401)


# --- token validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "some-other-api"},
        {"iss": "someone-else"},
        {"aud": None},
        {"iss": None},
    ],
)
def test_access_tokens_must_carry_our_audience_and_issuer(user: User, change: dict) -> None:
    payload = claims(tokens_for(user.email)["access"])
    for key, value in change.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    assert_envelope(bearer(forge(payload)).get("/api/v1/me"), 401)


def test_a_correctly_forged_token_is_accepted_proving_the_forge_helper(user: User) -> None:
    payload = claims(tokens_for(user.email)["access"])
    assert bearer(forge(payload)).get("/api/v1/me").status_code == 200


def test_deleted_and_deactivated_users_get_401_not_500(user: User, other_user: User) -> None:
    deleted = bearer(tokens_for(user.email)["access"])
    deactivated = bearer(tokens_for(other_user.email)["access"])
    User.objects.filter(pk=user.pk).delete()
    User.objects.filter(pk=other_user.pk).update(is_active=False)
    assert_envelope(deleted.get("/api/v1/me"), 401)
    assert_envelope(deactivated.get("/api/v1/me"), 401)


def test_tokens_are_refused_in_the_url(user: User) -> None:
    access = tokens_for(user.email)["access"]
    response = APIClient().get(f"/api/v1/me?access={access}")
    assert_envelope(response, 400, "token_in_url")


def test_no_token_is_401_envelope(api_client: APIClient) -> None:
    assert_envelope(api_client.get("/api/v1/me"), 401, "not_authenticated")


# --- logout --------------------------------------------------------------------------------------


def test_logout_kills_the_refresh_and_the_access_token(api_client: APIClient, user: User) -> None:
    pair = tokens_for(user.email)
    other_device = tokens_for(user.email)
    client = bearer(pair["access"])
    assert client.post("/api/v1/auth/logout", {"refresh": pair["refresh"]}).status_code == 204
    assert_envelope(client.get("/api/v1/me"), 401)
    assert_envelope(api_client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}), 401)
    # Only that device: the other one goes on.
    assert bearer(other_device["access"]).get("/api/v1/me").status_code == 200
    assert AuditEvent.objects.filter(action="auth.sessions_revoked").count() == 1


def test_logout_with_another_users_refresh_is_404(user: User, other_user: User) -> None:
    mine = tokens_for(user.email)
    theirs = tokens_for(other_user.email)
    response = bearer(mine["access"]).post("/api/v1/auth/logout", {"refresh": theirs["refresh"]})
    assert_envelope(response, 404)
    assert bearer(theirs["access"]).get("/api/v1/me").status_code == 200


def test_logout_bad_input_and_no_auth(api_client: APIClient, user: User) -> None:
    client = bearer(tokens_for(user.email)["access"])
    body = assert_envelope(client.post("/api/v1/auth/logout", {"refresh": "nope"}), 400)
    assert "refresh" in body["fields"]
    assert_envelope(client.post("/api/v1/auth/logout", {}), 400)
    assert_envelope(api_client.post("/api/v1/auth/logout", {"refresh": "x"}), 401)


def test_logout_all_ends_every_session(api_client: APIClient, user: User) -> None:
    first, second = tokens_for(user.email), tokens_for(user.email)
    assert bearer(first["access"]).post("/api/v1/auth/logout-all").status_code == 204
    for pair in (first, second):
        assert_envelope(bearer(pair["access"]).get("/api/v1/me"), 401)
        assert_envelope(api_client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}), 401)
    assert_envelope(api_client.post("/api/v1/auth/logout-all"), 401)


# --- forgot / reset password ----------------------------------------------------------------------


def _forgot(client: APIClient, capture: Any, email: str) -> Any:
    with capture(execute=True):
        return client.post("/api/v1/auth/forgot-password", {"email": email})


def test_forgot_password_is_202_whether_or_not_the_account_exists(
    api_client: APIClient, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    known = _forgot(api_client, django_capture_on_commit_callbacks, user.email)
    unknown = _forgot(api_client, django_capture_on_commit_callbacks, "nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "reset-password?token=" in mail.outbox[0].body


def test_forgot_password_bad_input(api_client: APIClient) -> None:
    body = assert_envelope(api_client.post("/api/v1/auth/forgot-password", {"email": "x"}), 400)
    assert "email" in body["fields"]


def test_reset_password_sets_it_once_and_ends_every_session(
    api_client: APIClient, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    old_access = tokens_for(user.email)["access"]
    _forgot(api_client, django_capture_on_commit_callbacks, user.email)
    token = token_from(mail.outbox[-1])
    response = api_client.post(
        "/api/v1/auth/reset-password", {"token": token, "password": NEW_PASSWORD}
    )
    assert response.status_code == 200, response.content
    assert_envelope(bearer(old_access).get("/api/v1/me"), 401)
    assert login(api_client, user.email).status_code == 401
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200
    again = api_client.post(
        "/api/v1/auth/reset-password", {"token": token, "password": "yet another passphrase"}
    )
    assert "token" in assert_envelope(again, 400)["fields"]
    assert AuditEvent.objects.filter(action="auth.password_reset", subject_user_id=user.pk).exists()


def test_reset_password_weak_password_changes_nothing(
    api_client: APIClient, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    _forgot(api_client, django_capture_on_commit_callbacks, user.email)
    token = token_from(mail.outbox[-1])
    body = assert_envelope(
        api_client.post("/api/v1/auth/reset-password", {"token": token, "password": "short"}), 400
    )
    assert "password" in body["fields"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    # The token was not used up by the refused attempt.
    ok = api_client.post("/api/v1/auth/reset-password", {"token": token, "password": NEW_PASSWORD})
    assert ok.status_code == 200


def test_reset_token_is_short_lived(
    api_client: APIClient, user: User, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    time_machine.move_to(datetime(2030, 2, 1, 9, 0, tzinfo=UTC), tick=False)
    _forgot(api_client, django_capture_on_commit_callbacks, user.email)
    token = token_from(mail.outbox[-1])
    time_machine.move_to(datetime(2030, 2, 1, 10, 1, tzinfo=UTC), tick=False)
    response = api_client.post(
        "/api/v1/auth/reset-password", {"token": token, "password": NEW_PASSWORD}
    )
    assert_envelope(response, 400)


def test_reset_password_missing_fields(api_client: APIClient) -> None:
    body = assert_envelope(api_client.post("/api/v1/auth/reset-password", {}), 400)
    assert set(body["fields"]) == {"token", "password"}


# --- change password -----------------------------------------------------------------------------


def test_change_password_keeps_this_session_and_ends_the_others(
    api_client: APIClient, user: User
) -> None:
    this, other = tokens_for(user.email), tokens_for(user.email)
    response = bearer(this["access"]).post(
        "/api/v1/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204, response.content
    assert bearer(this["access"]).get("/api/v1/me").status_code == 200
    assert_envelope(bearer(other["access"]).get("/api/v1/me"), 401)
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200
    assert AuditEvent.objects.filter(action="auth.password_changed").exists()


def test_change_password_bad_input(user: User, user_client: APIClient) -> None:
    wrong = user_client.post(
        "/api/v1/auth/change-password",
        {"current_password": "not my password", "new_password": NEW_PASSWORD},
    )
    assert "current_password" in assert_envelope(wrong, 400)["fields"]
    weak = user_client.post(
        "/api/v1/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "short"},
    )
    assert "new_password" in assert_envelope(weak, 400)["fields"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert_envelope(APIClient().post("/api/v1/auth/change-password", {}), 401)


# --- me -----------------------------------------------------------------------------------------


def test_me_returns_the_contract_fields(
    user: User, user_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(1):
        response = user_client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": user.email,
        "display_name": "",
        "avatar": "",
        "timezone": "UTC",
        "role": "user",
        "is_email_verified": True,
        "prefers_explanations": True,
        "exam_sitting": None,
        "desired_retention": 0.92,
        "daily_review_limit": 100,
        "daily_new_limit": 20,
        # Billing is off by default: everyone has every entitlement, and no query asks.
        "entitlements": ["full_length_mocks", "readiness", "unlimited_new_questions"],
    }


def test_patch_me_updates_the_editable_fields(user: User, user_client: APIClient) -> None:
    response = user_client.patch(
        "/api/v1/me",
        {
            "display_name": "Dr Who",
            "avatar": "https://cdn.example.com/a.png",
            "timezone": "Europe/London",
            "prefers_explanations": False,
            "role": "user",  # echoing the current value is fine
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["display_name"] == "Dr Who"
    assert body["timezone"] == "Europe/London"
    profile = Profile.objects.get(user=user)
    assert (profile.display_name, profile.avatar, profile.timezone) == (
        "Dr Who",
        "https://cdn.example.com/a.png",
        "Europe/London",
    )
    assert profile.prefers_explanations is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"avatar": "javascript:alert(1)"}, "avatar"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"role": "admin"}, "role"),
        ({"email": "new@example.com"}, "email"),
        ({"is_email_verified": False}, "is_email_verified"),
        ({"exam_sitting": "2001-01-01"}, "exam_sitting"),
        ({"exam_sitting": "not a date"}, "exam_sitting"),
        ({"desired_retention": 0.99}, "desired_retention"),
        ({"desired_retention": 0.5}, "desired_retention"),
        ({"daily_review_limit": 0}, "daily_review_limit"),
        ({"daily_new_limit": -1}, "daily_new_limit"),
        ({"daily_new_limit": 10_000}, "daily_new_limit"),
    ],
)
def test_patch_me_refuses_bad_or_read_only_values(
    user: User, user_client: APIClient, payload: dict, field: str
) -> None:
    body = assert_envelope(
        user_client.patch(
            "/api/v1/me", {**payload, "display_name": payload.get("display_name", "Z")}
        ),
        400,
        "validation_error",
    )
    assert field in body["fields"]
    user.refresh_from_db()
    assert user.role == Role.USER
    assert user.email.startswith("user")
    assert user.is_email_verified
    assert Profile.objects.get(user=user).display_name == ""


def test_patch_me_sets_and_clears_the_study_settings(user: User, user_client: APIClient) -> None:
    sitting = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    response = user_client.patch(
        "/api/v1/me",
        {
            "exam_sitting": sitting,
            "desired_retention": 0.85,
            "daily_review_limit": 50,
            "daily_new_limit": 0,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["exam_sitting"], body["desired_retention"]) == (sitting, 0.85)
    assert (body["daily_review_limit"], body["daily_new_limit"]) == (50, 0)
    profile = Profile.objects.get(user=user)
    assert (profile.desired_retention, profile.daily_review_limit) == (0.85, 50)
    cleared = user_client.patch("/api/v1/me", {"exam_sitting": None}, format="json")
    assert cleared.status_code == 200
    assert cleared.json()["exam_sitting"] is None
    assert Profile.objects.get(user=user).exam_sitting is None


def test_me_without_auth_is_401(api_client: APIClient) -> None:
    assert_envelope(api_client.patch("/api/v1/me", {"display_name": "x"}), 401)


# --- devices ------------------------------------------------------------------------------------


def test_devices_lists_active_sessions_and_marks_the_current_one(
    user: User, other_user: User
) -> None:
    current = tokens_for(user.email, HTTP_USER_AGENT="phone")
    tokens_for(user.email, HTTP_USER_AGENT="laptop")
    revoked = tokens_for(user.email, HTTP_USER_AGENT="old")
    AuthSession.objects.filter(pk=claims(revoked["access"])["sid"]).update(
        revoked_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    tokens_for(other_user.email)
    response = bearer(current["access"]).get("/api/v1/me/devices")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    by_agent = {d["user_agent"]: d for d in body["results"]}
    assert set(by_agent) == {"phone", "laptop"}
    assert by_agent["phone"]["current"] is True
    assert by_agent["laptop"]["current"] is False
    assert set(by_agent["phone"]) >= {"id", "user_agent", "ip", "created_at", "last_used_at"}
    assert by_agent["phone"]["ip"] == "127.0.0.1"


@pytest.mark.parametrize("sessions", [3, 15])
def test_devices_query_count_does_not_grow(
    user: User, sessions: int, django_assert_max_num_queries: Any
) -> None:
    access = tokens_for(user.email)["access"]
    for _ in range(sessions):
        tokens_for(user.email)
    client = bearer(access)
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/me/devices?page_size=100")
    assert response.json()["count"] == sessions + 1


def test_revoke_a_device(user: User, other_user: User) -> None:
    mine, phone = tokens_for(user.email), tokens_for(user.email)
    theirs = tokens_for(other_user.email)
    client = bearer(mine["access"])
    phone_id = claims(phone["access"])["sid"]
    assert client.delete(f"/api/v1/me/devices/{phone_id}").status_code == 204
    assert_envelope(bearer(phone["access"]).get("/api/v1/me"), 401)
    assert_envelope(client.delete(f"/api/v1/me/devices/{phone_id}"), 404)
    their_id = claims(theirs["access"])["sid"]
    assert_envelope(client.delete(f"/api/v1/me/devices/{their_id}"), 404)
    assert bearer(theirs["access"]).get("/api/v1/me").status_code == 200
    assert_envelope(client.delete("/api/v1/me/devices/999999"), 404)
    assert_envelope(APIClient().delete(f"/api/v1/me/devices/{phone_id}"), 401)


# --- delete account ------------------------------------------------------------------------------


def test_delete_me_needs_the_password_then_deletes_everything(user: User) -> None:
    pair = tokens_for(user.email)
    client = bearer(pair["access"])
    wrong = client.delete("/api/v1/me", {"password": "not my password"})
    assert "password" in assert_envelope(wrong, 400)["fields"]
    assert "password" in assert_envelope(client.delete("/api/v1/me", {}), 400)["fields"]
    assert User.objects.filter(pk=user.pk).exists()
    user_id, email = user.pk, user.email
    assert client.delete("/api/v1/me", {"password": DEFAULT_PASSWORD}).status_code == 204
    assert not User.objects.filter(pk=user_id).exists()
    assert not AuthSession.objects.filter(user_id=user_id).exists()
    assert_envelope(client.get("/api/v1/me"), 401)
    assert_envelope(APIClient().post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}), 401)
    event = AuditEvent.objects.get(action="account.deleted")
    assert event.subject_user_id == user_id
    assert email not in str(
        AuditEvent.objects.filter(pk=event.pk).values_list("actor_label", "before", "after").get()
    )


def test_new_user_factory_is_unique() -> None:
    assert UserFactory().email != UserFactory().email
