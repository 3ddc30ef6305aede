"""With Redis down the whole API keeps working: no 5xx, throttles fail open, the durable
login limit still holds (it lives in PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts.models import User
from tests.accounts.factories import DEFAULT_PASSWORD

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
