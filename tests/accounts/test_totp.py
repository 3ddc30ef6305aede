"""Two-factor sign-in with TOTP for candidates (ASVS 5.0 6.3.2, 6.5.1, 6.5.5): enrol (password),
confirm (a current code), log in with a code once a device is confirmed, disable (password).
"""

from __future__ import annotations

from base64 import b32decode
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, User
from apps.audit.models import AuditEvent
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.accounts.helpers import bearer, tokens_for

pytestmark = pytest.mark.django_db

START = datetime(2030, 6, 1, 9, 0, 5, tzinfo=UTC)  # early in a 30 s step
TOTP_URL = "/api/v1/me/totp"
CONFIRM_URL = "/api/v1/me/totp/confirm"
LOGIN_URL = "/api/v1/auth/login"


def code_for(secret: str, at: datetime, *, steps: int = 0) -> str:
    totp = TOTP(b32decode(secret))
    totp.time = at.timestamp() + steps * 30
    return str(totp.token()).zfill(6)


def envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str)
    return body


def enrol(client: APIClient, at: datetime) -> str:
    """Starts and confirms an enrolment; returns the secret."""
    started = client.post(TOTP_URL, {"password": DEFAULT_PASSWORD})
    assert started.status_code == 201, started.content
    secret = started.json()["secret"]
    confirmed = client.post(CONFIRM_URL, {"code": code_for(secret, at)})
    assert confirmed.status_code == 200, confirmed.content
    return str(secret)


def log_in(email: str, **extra: str) -> Any:
    return APIClient().post(LOGIN_URL, {"email": email, "password": DEFAULT_PASSWORD, **extra})


@pytest.fixture
def frozen(time_machine: Any) -> Any:
    time_machine.move_to(START, tick=False)
    return time_machine


def test_enrolment_returns_a_working_secret_and_confirming_it_turns_two_factor_on(
    user: User, frozen: Any
) -> None:
    this_device = tokens_for(user.email)
    other_device = tokens_for(user.email)
    client = bearer(this_device["access"])
    assert client.get(TOTP_URL).json() == {"enabled": False, "pending": False}

    started = client.post(TOTP_URL, {"password": DEFAULT_PASSWORD})
    assert started.status_code == 201, started.content
    body = started.json()
    assert set(body) == {"secret", "otpauth_uri"}
    uri = urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == f"/OpenMRCS:{user.email}"
    query = parse_qs(uri.query)
    assert query["secret"] == [body["secret"]]
    assert query["issuer"] == ["OpenMRCS"]
    assert (query["digits"], query["period"]) == (["6"], ["30"])
    assert client.get(TOTP_URL).json() == {"enabled": False, "pending": True}
    # Not on yet: login needs no code.
    assert log_in(user.email).status_code == 200

    confirmed = client.post(CONFIRM_URL, {"code": code_for(body["secret"], START)})
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json() == {"enabled": True, "pending": False}
    assert TOTPDevice.objects.get(user=user).confirmed
    # Sessions started without the second factor end; this one stays.
    assert client.get("/api/v1/me").status_code == 200
    assert bearer(other_device["access"]).get("/api/v1/me").status_code == 401
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "auth.totp_enrolment_started" in actions
    assert "auth.totp_enabled" in actions
    stored = str(list(AuditEvent.objects.values_list("before", "after")))
    assert body["secret"] not in stored
    assert TOTPDevice.objects.get(user=user).key not in stored


def test_login_needs_a_current_code_once_two_factor_is_on(user: User, frozen: Any) -> None:
    secret = enrol(bearer(tokens_for(user.email)["access"]), START)
    sessions = AuthSession.objects.filter(user=user).count()

    frozen.move_to(START + timedelta(minutes=1), tick=False)
    envelope(log_in(user.email), 401, "otp_required")
    envelope(log_in(user.email, otp=""), 401, "otp_required")
    # A wrong password is still just wrong credentials: no hint that a code is needed.
    wrong = APIClient().post(LOGIN_URL, {"email": user.email, "password": "not it at all 123"})
    envelope(wrong, 401, "invalid_credentials")
    assert AuthSession.objects.filter(user=user).count() == sessions

    now = START + timedelta(minutes=1)
    ok = log_in(user.email, otp=code_for(secret, now))
    assert ok.status_code == 200, ok.content
    assert bearer(ok.json()["access"]).get("/api/v1/me").status_code == 200
    assert AuthSession.objects.filter(user=user).count() == sessions + 1


def test_a_code_works_once(user: User, frozen: Any) -> None:
    secret = enrol(bearer(tokens_for(user.email)["access"]), START)
    now = START + timedelta(minutes=2)
    frozen.move_to(now, tick=False)
    code = code_for(secret, now)
    assert log_in(user.email, otp=code).status_code == 200
    envelope(log_in(user.email, otp=code), 401, "otp_invalid")
    # The confirming code was spent too, and an earlier step's code is no longer accepted.
    assert log_in(user.email, otp=code_for(secret, now, steps=-1)).json()["code"] in {
        "otp_invalid",
        "too_many_otp_failures",
    }


def test_a_wrong_code_is_refused_audited_and_slows_the_next_attempt(
    user: User, frozen: Any
) -> None:
    secret = enrol(bearer(tokens_for(user.email)["access"]), START)
    now = START + timedelta(minutes=3)
    frozen.move_to(now, tick=False)
    right = code_for(secret, now)
    wrong = "000000" if right != "000000" else "111111"
    envelope(log_in(user.email, otp=wrong), 401, "otp_invalid")
    assert AuditEvent.objects.filter(action="auth.otp_failed", subject_user_id=user.pk).exists()
    assert wrong not in str(AuditEvent.objects.filter(action="auth.otp_failed").values("after"))
    # Straight after a failure even the right code waits (1 s, doubling with each failure).
    throttled = log_in(user.email, otp=right)
    envelope(throttled, 429, "too_many_otp_failures")
    assert int(throttled["Retry-After"]) >= 1
    frozen.move_to(now + timedelta(seconds=2), tick=False)
    assert log_in(user.email, otp=right).status_code == 200


def test_confirming_with_a_wrong_code_leaves_two_factor_off(user: User, frozen: Any) -> None:
    client = bearer(tokens_for(user.email)["access"])
    secret = client.post(TOTP_URL, {"password": DEFAULT_PASSWORD}).json()["secret"]
    right = code_for(secret, START)
    wrong = "000000" if right != "000000" else "111111"
    body = envelope(client.post(CONFIRM_URL, {"code": wrong}), 400, "otp_invalid")
    assert "code" in body["fields"]
    assert client.get(TOTP_URL).json() == {"enabled": False, "pending": True}
    assert log_in(user.email).status_code == 200
    envelope(client.post(CONFIRM_URL, {}), 400, "validation_error")


def test_enrolment_needs_the_password_and_a_fresh_start_replaces_a_pending_secret(
    user: User, frozen: Any
) -> None:
    client = bearer(tokens_for(user.email)["access"])
    body = envelope(
        client.post(TOTP_URL, {"password": "not the password"}), 400, "validation_error"
    )
    assert "password" in body["fields"]
    assert not TOTPDevice.objects.filter(user=user).exists()
    first = client.post(TOTP_URL, {"password": DEFAULT_PASSWORD}).json()["secret"]
    second = client.post(TOTP_URL, {"password": DEFAULT_PASSWORD}).json()["secret"]
    assert first != second
    assert TOTPDevice.objects.filter(user=user).count() == 1
    body = envelope(client.post(CONFIRM_URL, {"code": code_for(first, START)}), 400, "otp_invalid")


def test_enrolling_twice_or_confirming_nothing_is_a_conflict(user: User, frozen: Any) -> None:
    client = bearer(tokens_for(user.email)["access"])
    envelope(client.post(CONFIRM_URL, {"code": "123456"}), 409, "totp_not_started")
    enrol(client, START)
    envelope(client.post(TOTP_URL, {"password": DEFAULT_PASSWORD}), 409, "totp_enabled")
    envelope(client.post(CONFIRM_URL, {"code": "123456"}), 409, "totp_enabled")


def test_disabling_needs_the_password_and_turns_the_code_off(user: User, frozen: Any) -> None:
    client = bearer(tokens_for(user.email)["access"])
    enrol(client, START)
    body = envelope(
        client.delete(TOTP_URL, {"password": "wrong password!"}), 400, "validation_error"
    )
    assert "password" in body["fields"]
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.delete(TOTP_URL, {"password": DEFAULT_PASSWORD}).status_code == 204
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.get(TOTP_URL).json() == {"enabled": False, "pending": False}
    assert log_in(user.email).status_code == 200
    assert AuditEvent.objects.filter(action="auth.totp_disabled", subject_user_id=user.pk).exists()
    # Idempotent.
    assert client.delete(TOTP_URL, {"password": DEFAULT_PASSWORD}).status_code == 204


def test_two_factor_endpoints_need_a_login_and_touch_only_the_callers_devices(
    user: User, frozen: Any
) -> None:
    anonymous = APIClient()
    for method, url in (("get", TOTP_URL), ("post", TOTP_URL), ("delete", TOTP_URL)):
        assert getattr(anonymous, method)(url, {}).status_code == 401
    assert anonymous.post(CONFIRM_URL, {"code": "123456"}).status_code == 401

    other = UserFactory()
    other_secret = enrol(bearer(tokens_for(other.email)["access"]), START)
    client = bearer(tokens_for(user.email)["access"])
    assert client.get(TOTP_URL).json() == {"enabled": False, "pending": False}
    # The other account's code means nothing here, and disabling here leaves theirs alone.
    envelope(
        client.post(CONFIRM_URL, {"code": code_for(other_secret, START)}), 409, "totp_not_started"
    )
    assert client.delete(TOTP_URL, {"password": DEFAULT_PASSWORD}).status_code == 204
    assert TOTPDevice.objects.filter(user=other, confirmed=True).count() == 1


def test_an_overlong_code_is_a_400_on_code(user: User, frozen: Any) -> None:
    client = bearer(tokens_for(user.email)["access"])
    client.post(TOTP_URL, {"password": DEFAULT_PASSWORD})
    body = envelope(client.post(CONFIRM_URL, {"code": "1" * 100}), 400, "validation_error")
    assert "code" in body["fields"]
    too_long = log_in(user.email, otp="1" * 100)
    assert "otp" in envelope(too_long, 400, "validation_error")["fields"]
