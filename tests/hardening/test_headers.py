"""Headers and protocol (ASVS 5.0 V3 and V4 / 4.0.3 V14): nosniff, frame denial, referrer
policy, no-store on personal responses, TRACE refused, and production's HSTS and cookie flags."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import User

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PERSONAL = ["/api/v1/me", "/api/v1/me/devices", "/api/v1/me/export"]


def assert_common_headers(response: Any) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"]


@pytest.mark.parametrize("path", PERSONAL)
def test_personal_responses_are_never_stored(user_client: APIClient, path: str) -> None:
    response = user_client.get(path)
    assert response.status_code == 200, response.content
    assert_common_headers(response)
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"].startswith("application/json")


def test_errors_carry_the_same_headers(user_client: APIClient, api_client: APIClient) -> None:
    for response in (
        api_client.get("/api/v1/me"),  # 401
        user_client.get("/api/v1/me/devices/999999999"),  # 405 or 404
        user_client.get("/api/v1/no-such-endpoint"),  # 404
        user_client.patch("/api/v1/me", {"timezone": "Not/AZone"}),  # 400
    ):
        assert response.status_code >= 400
        assert_common_headers(response)
        assert "no-store" in response["Cache-Control"]


def test_login_and_refresh_responses_are_never_stored(user: User) -> None:
    from tests.accounts.factories import DEFAULT_PASSWORD

    client = APIClient()
    login = client.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 200
    assert "no-store" in login["Cache-Control"]
    refreshed = client.post("/api/v1/auth/refresh", {"refresh": login.json()["refresh"]})
    assert "no-store" in refreshed["Cache-Control"]
    assert_common_headers(refreshed)


def test_admin_pages_deny_framing(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert Client().get("/admin/login/")["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("method", ["TRACE", "TRACK"])
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/health/live", "/admin/", "/"])
def test_trace_is_refused(user_client: APIClient, method: str, path: str) -> None:
    response = user_client.generic(method, path)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# --- production settings, loaded in a separate interpreter -----------------------------------

_PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("check", deploy=True, fail_level="WARNING")
client = Client()
live = client.get("/api/v1/health/live", secure=True, HTTP_HOST="openmrcs.example.com")
plain = client.get("/api/v1/me", HTTP_HOST="openmrcs.example.com")
names = [
    "DEBUG", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "ADMIN_REQUIRE_OTP",
    "SECURE_PROXY_SSL_HEADER",
]
print(json.dumps({
    "settings": {name: getattr(settings, name, None) for name in names},
    "hsts": live.headers.get("Strict-Transport-Security"),
    "live_status": live.status_code,
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location"),
}))
"""


@pytest.fixture(scope="module")
def production() -> dict[str, Any]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "openmrcs.example.com",
    }
    for name in ("DJANGO_SECURE_HSTS_SECONDS", "DJANGO_SECURE_SSL_REDIRECT", "ADMIN_REQUIRE_OTP"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_are_strict(production: dict[str, Any]) -> None:
    values = production["settings"]
    assert values["DEBUG"] is False
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["ADMIN_REQUIRE_OTP"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_production_sends_hsts_and_redirects_plain_http(production: dict[str, Any]) -> None:
    assert production["live_status"] == 200
    assert production["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert production["plain_status"] == 301
    assert production["plain_location"] == "https://openmrcs.example.com/api/v1/me"


# --- every API read, as each kind of caller ----------------------------------------------------


def _api_get_routes() -> list[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
        found: list[tuple[str, Any]] = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                found += walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.append((prefix + str(pattern.pattern), pattern))
        return found

    routes = []
    for route, pattern in walk(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", None) or getattr(
            pattern.callback, "cls", None
        )
        if route.startswith("api/v1/") and (view is None or hasattr(view, "get")):
            routes.append(route)
    return sorted(set(routes))


API_GETS = _api_get_routes()


def _url(route: str) -> str:
    import re

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: "x" if m.group(1) == "slug" else "1", route)


def test_every_api_read_is_never_stored_whoever_asks(
    api_client: APIClient, user_client: APIClient, admin_client_api: APIClient
) -> None:
    assert len(API_GETS) >= 30
    for route in API_GETS:
        for who, client in (("anonymous", api_client), ("candidate", user_client)):
            response = client.get(_url(route))
            assert response.status_code < 500, (route, who, response.status_code)
            cache_control = response.get("Cache-Control", "")
            assert "no-store" in cache_control, (route, who, cache_control)
            assert response["X-Content-Type-Options"] == "nosniff", route
            assert response["X-Frame-Options"] == "DENY", route
        staff = admin_client_api.get(_url(route))
        assert "no-store" in staff.get("Cache-Control", ""), (route, "admin")
