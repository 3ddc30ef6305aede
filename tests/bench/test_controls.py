"""Benchmark controls: routed only where the bench app is installed, bare and cached variants."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from apps.bench.api.views import (
    CACHED_CONTROL_KEY,
    cached_control_body,
    cached_control_document,
)

pytestmark = pytest.mark.django_db

CONTROL = "/api/v1/bench/control"
CACHED = "/api/v1/bench/cached"


@pytest.mark.parametrize("path", [CONTROL, CACHED, f"{CONTROL}/"])
def test_controls_do_not_exist_by_default(
    api_client: APIClient, user_client: APIClient, path: str
) -> None:
    for client in (api_client, user_client):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "Not found."}


def test_controls_are_not_in_the_schema_by_default(api_client: APIClient) -> None:
    schema = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    assert not [p for p in schema["paths"] if "/bench/" in p]


@pytest.mark.usefixtures("bench_routes")
def test_bare_control_needs_no_auth_and_touches_no_database(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = api_client.get(CONTROL)
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert api_client.get(f"{CONTROL}/").json() == {"ok": True}


@pytest.mark.usefixtures("bench_routes")
def test_bare_control_ignores_a_bad_token(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get(CONTROL).status_code == 200


@pytest.mark.usefixtures("bench_routes")
def test_bare_control_only_reads(api_client: APIClient) -> None:
    response = api_client.post(CONTROL, {})
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.usefixtures("bench_routes")
def test_cached_control_is_authenticated_like_the_dashboard(api_client: APIClient) -> None:
    response = api_client.get(CACHED)
    assert response.status_code == 401
    assert set(response.json()) >= {"code", "message"}
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get(CACHED).status_code == 401
    assert cache.get(CACHED_CONTROL_KEY) is None  # nothing was done for a stranger


@pytest.mark.usefixtures("bench_routes")
def test_cached_control_serves_the_cached_bytes(
    user_client: APIClient, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):  # the token's session check, as on /dashboard
        first = user_client.get(CACHED)
    assert first.status_code == 200
    assert first["Content-Type"] == "application/json"
    assert json.loads(first.content) == cached_control_document()
    assert cache.get(CACHED_CONTROL_KEY) == first.content

    # What is served is what the cache holds, not a freshly rendered document.
    cache.set(CACHED_CONTROL_KEY, b'{"from": "cache"}', None)
    with django_assert_num_queries(1):
        second = user_client.get(CACHED)
    assert second.content == b'{"from": "cache"}'


@pytest.mark.usefixtures("bench_routes")
def test_control_schema_is_documented(api_client: APIClient) -> None:
    schema = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    assert {"/api/v1/bench/control", "/api/v1/bench/cached"} <= set(schema["paths"])


def test_cached_control_body_survives_a_cache_outage() -> None:
    closed = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6390/0",  # nothing listens here
            "KEY_PREFIX": "bench-redis-down",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.05,
                "SOCKET_TIMEOUT": 0.05,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    with override_settings(CACHES=closed):
        assert json.loads(cached_control_body()) == cached_control_document()


def test_cached_control_document_is_dashboard_sized() -> None:
    size = len(json.dumps(cached_control_document()))
    assert 1_000 <= size <= 4_000


@pytest.mark.parametrize(
    ("module", "installed"),
    [
        ("config.settings.production", False),
        ("config.settings.test", False),
        ("config.settings.bench", True),
        ("config.settings.local", True),
    ],
)
def test_the_bench_app_is_installed_only_by_local_and_bench_settings(
    module: str, installed: bool
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://settings-check/openmrcs",
        "REDIS_URL": "redis://127.0.0.1:6390/0",
        "DJANGO_SECRET_KEY": "settings-check",
        "DJANGO_ALLOWED_HOSTS": "example.org",
    }
    code = f"import {module} as s; print('apps.bench' in s.INSTALLED_APPS)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(installed)
