"""Liveness and readiness against the real PostgreSQL, Redis and broker."""

from __future__ import annotations

from typing import Any

import pytest
from health_check.checks import Database
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from apps.core import health

pytestmark = pytest.mark.django_db

CLOSED_REDIS = "redis://127.0.0.1:6390/0"


def test_liveness_is_always_ok_and_public(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    response = api_client.get("/api/v1/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_with_everything_up(api_client: APIClient, settings: Any) -> None:
    # Exercise a real broker connection rather than the eager shortcut.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = api_client.get("/api/v1/health")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    for name, check in body["checks"].items():
        assert check["status"] == "ok", name
        assert "error" not in check
    assert body["checks"]["database"]["critical"] is True
    assert body["checks"]["cache"]["critical"] is False


def test_readiness_is_degraded_not_down_when_cache_and_broker_are_down(
    api_client: APIClient, settings: Any, closed_cache: None
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = CLOSED_REDIS
    response = api_client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "unavailable"
    assert body["checks"]["broker"]["status"] == "unavailable"
    assert "6390" not in str(body)  # no connection details leak


def test_readiness_is_503_when_the_database_check_fails(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = dict(health.CHECKS)
    checks["database"] = (lambda: Database(alias="not-configured"), True)
    monkeypatch.setattr(health, "CHECKS", checks)
    response = api_client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "unavailable"
    assert body["checks"]["database"]["error"]


def test_probes_are_not_throttled(api_client: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "1/min"})
    for _ in range(3):
        assert api_client.get("/api/v1/health/live").status_code == 200
        assert api_client.get("/api/v1/health").status_code == 200
