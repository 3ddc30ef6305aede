"""Session and token hardening (ASVS 5.0 V7 and V9 / 4.0.3 V3): JWT algorithm allow-list,
audience and issuer, token type, no tokens in URLs, logout everywhere, an absolute session
lifetime that rotation cannot extend, re-authentication for deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, LoginFailure, User
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.accounts.helpers import bearer, claims, forge, tokens_for

pytestmark = pytest.mark.django_db

KEY = settings.SIMPLE_JWT["SIGNING_KEY"]


def refresh_with(token: str) -> Any:
    return APIClient().post("/api/v1/auth/refresh", {"refresh": token})


def assert_401(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert set(response.json()) <= {"code", "message", "fields"}


def sign(payload: dict[str, Any], *, algorithm: str, key: str | None = KEY) -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def unsigned(payload: dict[str, Any]) -> str:
    """alg "none": a header, a payload and an empty signature."""
    return jwt.encode(payload, None, algorithm="none")


# --- algorithm allow-list ------------------------------------------------------------------------


@pytest.fixture
def pair(user: User) -> dict[str, str]:
    return tokens_for(user.email)


def test_the_genuine_tokens_work(pair: dict[str, str]) -> None:
    """The control: the same payloads, signed as the server signs them, are accepted."""
    assert bearer(forge(claims(pair["access"]))).get("/api/v1/me").status_code == 200
    assert refresh_with(forge(claims(pair["refresh"]))).status_code == 200


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(unsigned, id="alg-none"),
        pytest.param(lambda p: sign(p, algorithm="HS512"), id="HS512-same-key"),
        pytest.param(lambda p: sign(p, algorithm="HS384"), id="HS384-same-key"),
        pytest.param(
            lambda p: sign(p, algorithm="HS256", key="another-key-" + "x" * 40), id="other-key"
        ),
        pytest.param(lambda p: forge(p)[:-4] + "AAAA", id="tampered-signature"),
        pytest.param(lambda p: forge(p).rsplit(".", 1)[0] + ".", id="signature-stripped"),
    ],
)
def test_only_hs256_with_our_key_is_accepted(pair: dict[str, str], make: Any) -> None:
    assert_401(bearer(make(claims(pair["access"]))).get("/api/v1/me"))
    assert_401(refresh_with(make(claims(pair["refresh"]))))
    # The refusals changed nothing: the genuine refresh token still rotates.
    assert refresh_with(pair["refresh"]).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "another-api"},
        {"aud": ["another-api"]},
        {"aud": None},
        {"iss": "someone-else"},
        {"iss": None},
        {"exp": None},
        {"exp": 1_000_000_000},
        {"sid": None},
        {"sid": "not-a-number"},
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
def test_claims_are_checked_on_access_and_refresh(pair: dict[str, str], change: dict) -> None:
    for kind in ("access", "refresh"):
        payload = claims(pair[kind])
        for key, value in change.items():
            if value is None:
                payload.pop(key, None)
            else:
                payload[key] = value
        token = forge(payload)
        if kind == "access":
            assert_401(bearer(token).get("/api/v1/me"))
        else:
            assert_401(refresh_with(token))


def test_token_types_cannot_be_swapped(pair: dict[str, str]) -> None:
    assert_401(bearer(pair["refresh"]).get("/api/v1/me"))
    assert_401(refresh_with(pair["access"]))
    # Relabelling the type does not help either: the refresh endpoint checks the session's jti.
    relabelled = claims(pair["access"])
    relabelled["token_type"] = "refresh"
    assert_401(refresh_with(forge(relabelled)))


@pytest.mark.parametrize("header", ["JWT {t}", "Token {t}", "bearer{t}", "Basic {t}", "{t}"])
def test_only_the_bearer_scheme_is_accepted(pair: dict[str, str], header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(t=pair["access"]))
    assert client.get("/api/v1/me").status_code == 401


def test_an_access_token_dies_after_its_lifetime(pair: dict[str, str], time_machine: Any) -> None:
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert lifetime <= timedelta(minutes=15)
    time_machine.move_to(datetime.now(tz=UTC) + lifetime + timedelta(seconds=10))
    assert_401(bearer(pair["access"]).get("/api/v1/me"))


# --- tokens in URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["access", "access_token", "refresh", "refresh_token", "token", "jwt"]
)
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/auth/refresh", "/api/v1/dashboard"])
def test_tokens_are_never_accepted_in_the_url(pair: dict[str, str], key: str, path: str) -> None:
    response = APIClient().get(f"{path}?{key}={pair['access']}")
    assert response.status_code == 400
    assert response.json()["code"] == "token_in_url"
    posted = APIClient().post(f"/api/v1/auth/refresh?{key}={pair['refresh']}", {})
    assert posted.status_code == 400
    # And the token used that way was not spent.
    assert refresh_with(pair["refresh"]).status_code == 200


# --- log out everywhere ------------------------------------------------------------------------


def test_logout_all_kills_every_device(user: User, other_user: User) -> None:
    devices = [tokens_for(user.email, HTTP_USER_AGENT=f"device {n}") for n in range(4)]
    rotated = refresh_with(devices[1]["refresh"]).json()  # one device has rotated since
    devices[1] = rotated
    bystander = tokens_for(other_user.email)
    assert bearer(devices[0]["access"]).post("/api/v1/auth/logout-all").status_code == 204
    for device in devices:
        assert_401(bearer(device["access"]).get("/api/v1/me"))
        assert_401(refresh_with(device["refresh"]))
    assert not AuthSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    # Another account is untouched.
    assert bearer(bystander["access"]).get("/api/v1/me").status_code == 200
    # Logging in again starts a fresh, working session.
    assert bearer(tokens_for(user.email)["access"]).get("/api/v1/me").status_code == 200


# --- absolute session lifetime -----------------------------------------------------------------


def test_rotation_never_extends_the_absolute_lifetime(user: User, time_machine: Any) -> None:
    start = datetime(2031, 1, 1, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    pair = tokens_for(user.email)
    absolute = settings.AUTH_SESSION_ABSOLUTE_LIFETIME
    refresh_lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    assert refresh_lifetime < absolute  # so rotation alone could outlive it if unchecked
    step = refresh_lifetime - timedelta(days=1)
    moment = start
    while moment + step < start + absolute:
        moment += step
        time_machine.move_to(moment, tick=False)
        response = refresh_with(pair["refresh"])
        assert response.status_code == 200, (moment, response.content)
        pair = response.json()
        assert claims(pair["refresh"])["exp"] <= int((start + absolute).timestamp())
        assert claims(pair["access"])["exp"] <= int((start + absolute).timestamp()) + 300
    time_machine.move_to(start + absolute + timedelta(seconds=1), tick=False)
    assert_401(refresh_with(pair["refresh"]))
    assert_401(bearer(pair["access"]).get("/api/v1/me"))


# --- re-authentication ---------------------------------------------------------------------------


def test_deletion_requires_the_password_and_wrong_ones_count(user: User) -> None:
    client = bearer(tokens_for(user.email)["access"])
    assert client.delete("/api/v1/me").status_code == 400
    assert client.delete("/api/v1/me", {"password": ""}).status_code == 400
    assert client.delete("/api/v1/me", {"password": "not the password"}).status_code == 400
    assert User.objects.filter(pk=user.pk).exists()
    assert LoginFailure.objects.filter(email=user.email).count() == 1
    assert client.delete("/api/v1/me", {"password": DEFAULT_PASSWORD}).status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


def test_deletion_is_refused_while_the_account_is_locked(user: User, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES_PER_HOUR = 2
    client = bearer(tokens_for(user.email)["access"])
    for _ in range(2):
        assert client.delete("/api/v1/me", {"password": "guess guess guess"}).status_code == 400
    locked = client.delete("/api/v1/me", {"password": DEFAULT_PASSWORD})
    assert locked.status_code == 429
    assert User.objects.filter(pk=user.pk).exists()
