"""With Redis down the whole API keeps working: no 5xx, the general throttles fail open, and the
sensitive limits still hold in PostgreSQL: the per-account login limit, the login,
registration and password reset throttles per IP, and the reset emails per address."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from apps.accounts.models import RateLimitHit, User
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_the_cache_really_is_down(closed_cache: None) -> None:
    cache.set("probe", 1)
    assert cache.get("probe") is None


def test_auth_flows_work_with_redis_down(
    api_client: APIClient, user: User, closed_cache: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        register = api_client.post(
            "/api/v1/auth/register",
            {"email": "offline@example.com", "password": "a long enough passphrase"},
        )
        forgot = api_client.post("/api/v1/auth/forgot-password", {"email": user.email})
    assert register.status_code == 201
    assert forgot.status_code == 202

    login = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200, login.content
    pair = login.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert client.get("/api/v1/me").status_code == 200
    assert client.patch("/api/v1/me", {"timezone": "Europe/Paris"}).status_code == 200
    assert client.get("/api/v1/me/devices").status_code == 200
    refreshed = api_client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]})
    assert refreshed.status_code == 200
    assert api_client.get("/api/v1/health").status_code == 200


def test_durable_login_limit_holds_with_redis_down(
    api_client: APIClient, user: User, closed_cache: None, settings: Any
) -> None:
    settings.LOGIN_MAX_FAILURES_PER_HOUR = 2
    statuses = [
        api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": "wrong guess here"}
        ).status_code
        for _ in range(2)
    ]
    statuses.append(
        api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
        ).status_code
    )
    assert statuses == [401, 401, 429]


def test_no_5xx_across_many_requests_with_redis_down(
    api_client: APIClient, user: User, closed_cache: None
) -> None:
    for _ in range(5):
        for response in (
            api_client.post("/api/v1/auth/login", {"email": "nobody@example.com", "password": "x"}),
            api_client.get("/api/v1/me"),
            api_client.get("/api/v1/health/live"),
        ):
            assert response.status_code < 500, response.content


@pytest.fixture
def sensitive_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production rates of the sensitive scopes, lowered where that keeps tests short."""
    monkeypatch.setattr(
        ScopedRateThrottle,
        "THROTTLE_RATES",
        {"login": "10/min", "register": "3/hour", "password_reset": "5/hour"},
    )


def test_reset_emails_per_address_are_limited_with_redis_down(
    api_client: APIClient,
    user: User,
    closed_cache: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Issue 13: with Redis stopped, eight reset emails to one address were queued (limit 5/h).
    The requests come from eight addresses, so only the per-address limit can stop them."""
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            api_client.post(
                "/api/v1/auth/forgot-password", {"email": user.email}, REMOTE_ADDR=f"10.0.{i}.1"
            ).status_code
            for i in range(8)
        ]
    assert statuses == [202] * 8  # the reply never tells
    assert len(mail.outbox) == 5
    assert {m.to[0] for m in mail.outbox} == {user.email}


def test_login_per_ip_limit_holds_with_redis_down(
    api_client: APIClient, closed_cache: None, sensitive_rates: None, time_machine: Any
) -> None:
    """Issue 13: fourteen logins from one IP went through with Redis down (limit 10/min)."""
    time_machine.move_to("2030-02-01T10:00:00Z", tick=False)
    users = UserFactory.create_batch(14)
    statuses = [
        api_client.post(
            "/api/v1/auth/login", {"email": u.email, "password": DEFAULT_PASSWORD}
        ).status_code
        for u in users
    ]
    assert statuses == [200] * 10 + [429] * 4
    refused = api_client.post(
        "/api/v1/auth/login", {"email": users[0].email, "password": DEFAULT_PASSWORD}
    )
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 62  # the window, rounded up (twice at most)
    # Another IP has its own count; and the window slides.
    other_ip = api_client.post(
        "/api/v1/auth/login",
        {"email": users[0].email, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="10.9.9.9",
    )
    assert other_ip.status_code == 200
    time_machine.shift(61)
    assert (
        api_client.post(
            "/api/v1/auth/login", {"email": users[0].email, "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )


def test_registration_and_reset_per_ip_limits_hold_with_redis_down(
    api_client: APIClient, closed_cache: None, sensitive_rates: None
) -> None:
    registrations = [
        api_client.post(
            "/api/v1/auth/register",
            {"email": f"new{i}@example.com", "password": "a long enough passphrase"},
        ).status_code
        for i in range(4)
    ]
    assert registrations == [201, 201, 201, 429]
    assert User.objects.count() == 3
    resets = [
        api_client.post(
            "/api/v1/auth/forgot-password", {"email": f"someone{i}@example.com"}
        ).status_code
        for i in range(6)
    ]
    assert resets == [202] * 5 + [429]


def test_with_redis_up_the_throttles_write_nothing_to_the_database(
    api_client: APIClient, user: User, sensitive_rates: None
) -> None:
    """The fast path: the per-IP limits are counted in Redis only."""
    statuses = [
        api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
        ).status_code
        for _ in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    assert not RateLimitHit.objects.exists()
