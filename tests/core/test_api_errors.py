"""What a client meets when something is wrong (issue 13): errors under /api/ are JSON even with
DEBUG on, /api/v1/ answers with an index, a bad token says so, and a validation error lists
every field at once under one top-level message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.tokens import issue_tokens_for
from apps.core.api.exception_handler import VALIDATION_MESSAGE
from tests.accounts.helpers import bearer, tokens_for
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def json_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) <= {"code", "message", "fields"}
    assert body["code"] == code, body
    assert body["message"]
    return body


# --- Errors under /api/ are JSON -----------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/nothing/here/", "/api/v2"])
def test_an_unknown_api_path_is_a_json_404(path: str, debug: bool, settings: Any) -> None:
    settings.DEBUG = debug
    for method in ("get", "post", "delete"):
        response = getattr(APIClient(), method)(path)
        body = json_error(response, 404, "not_found")
        # DEBUG's technical page lists every URL pattern: none of it may leak.
        assert "admin/" not in str(body)
        assert "urlpatterns" not in str(body)


@pytest.mark.parametrize("debug", [True, False])
def test_a_refused_host_header_is_a_json_400_logged_as_a_warning(
    debug: bool, settings: Any, caplog: Any
) -> None:
    """Django refuses the Host header in CommonMiddleware, before the view and before the
    inner API middleware: still the envelope (not DEBUG's HTML page), and no ERROR record."""
    settings.DEBUG = debug
    caplog.set_level("INFO")
    response = APIClient().get("/api/v1/health/live", HTTP_HOST="attacker.example")
    body = json_error(response, 400, "bad_request")
    assert "attacker.example" not in str(body)
    refused = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert refused, "the refusal is still logged"
    assert all(r.levelname == "WARNING" for r in refused)
    assert not [r for r in caplog.records if r.levelno >= 40]


def test_a_non_api_error_page_is_left_alone(settings: Any) -> None:
    settings.DEBUG = True
    response = APIClient().get("/admin/no-such-page/")
    assert response.status_code in (302, 404)  # the admin's own handling, not ours


# --- The index -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1"])
def test_the_api_index_links_schema_docs_and_health(path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "version": "v1",
        "schema": "/api/v1/schema",
        "docs": "/api/docs",
        "health": "/api/v1/health",
    }
    for link in ("/api/v1/schema", "/api/v1/health"):
        assert APIClient().get(link).status_code == 200


def test_the_index_is_in_the_openapi_schema() -> None:
    schema = APIClient().get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1"]["get"]
    assert operation["operationId"] == "api_index"
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    index = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(index["properties"]) == {"version", "schema", "docs", "health"}


# --- Tokens --------------------------------------------------------------------------------------


def test_an_expired_access_token_says_so(user: User) -> None:
    with time_machine.travel(T0, tick=False):
        token = issue_tokens_for(user=user)["access"]
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        body = json_error(bearer(token).get("/api/v1/me"), 401, "token_not_valid")
    assert "expired" in body["message"]


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c"])
def test_a_garbled_access_token_says_it_is_not_valid(token: str, db: Any) -> None:
    body = json_error(bearer(token).get("/api/v1/me"), 401, "token_not_valid")
    assert body["message"] != "Request failed."
    assert "not valid" in body["message"]


def test_a_refresh_token_used_as_bearer_is_not_valid(user: User) -> None:
    refresh = tokens_for(user.email)["refresh"]
    json_error(bearer(refresh).get("/api/v1/me"), 401, "token_not_valid")


def test_a_token_of_an_ended_session_says_the_session_ended(user: User) -> None:
    client = client_for(user)
    assert client.post("/api/v1/auth/logout-all").status_code == 204
    body = json_error(client.get("/api/v1/me"), 401, "session_ended")
    assert "Log in again" in body["message"]


# --- Validation errors ---------------------------------------------------------------------------


def test_register_reports_an_invalid_email_and_a_weak_password_together(db: Any) -> None:
    response = APIClient().post(
        "/api/v1/auth/register", {"email": "not-an-email", "password": "short"}, format="json"
    )
    body = json_error(response, 400, "validation_error")
    assert {"email", "password"} <= set(body["fields"])
    assert body["message"] == VALIDATION_MESSAGE
    assert not User.objects.exists()


def test_the_password_policy_still_sees_the_email(db: Any) -> None:
    """The similarity check needs the address; the serializer passes it on."""
    response = APIClient().post(
        "/api/v1/auth/register",
        {"email": "jonathan.appleseed@example.com", "password": "jonathan.appleseed"},
        format="json",
    )
    body = json_error(response, 400, "validation_error")
    assert set(body["fields"]) == {"password"}


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/v1/auth/register", {"email": "x"}),  # DRF field errors
        ("/api/v1/practice/sessions", {"question_count": 0}),  # DRF field errors
        ("/api/v1/practice/sessions", {"categories": ["no-such-category"]}),  # a domain error
        ("/api/v1/notifications/preferences", {}),  # a non-field error
    ],
)
def test_every_validation_error_has_the_same_top_level_message(
    path: str, payload: dict[str, Any], user: User
) -> None:
    client = client_for(user)
    method = client.patch if "preferences" in path else client.post
    body = json_error(method(path, payload, format="json"), 400, "validation_error")
    assert body["message"] == VALIDATION_MESSAGE
    assert body["fields"]
