"""The OpenAPI schema documents every auth/profile endpoint with its error bodies."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/auth/register": {"post": {"201", "400", "429"}},
    "/api/v1/auth/verify-email": {"post": {"200", "400"}},
    "/api/v1/auth/login": {"post": {"200", "400", "401", "429"}},
    "/api/v1/auth/refresh": {"post": {"200", "400", "401"}},
    "/api/v1/auth/logout": {"post": {"204", "400", "401", "404"}},
    "/api/v1/auth/logout-all": {"post": {"204", "401"}},
    "/api/v1/auth/forgot-password": {"post": {"202", "400", "429"}},
    "/api/v1/auth/reset-password": {"post": {"200", "400"}},
    "/api/v1/auth/change-password": {"post": {"204", "400", "401"}},
    "/api/v1/me": {"get": {"200", "401"}, "patch": {"200", "400", "401"}, "delete": {"204", "400"}},
    "/api/v1/me/devices": {"get": {"200", "401"}},
    "/api/v1/me/devices/{device_id}": {"delete": {"204", "401", "404"}},
    "/api/v1/me/totp": {
        "get": {"200", "401"},
        "post": {"201", "400", "401", "409", "429"},
        "delete": {"204", "400", "401", "429"},
    },
    "/api/v1/me/totp/confirm": {"post": {"200", "400", "401", "409", "429"}},
    "/api/v1/health": {"get": {"200", "503"}},
    "/api/v1/health/live": {"get": {"200"}},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_every_endpoint_documents_its_responses(schema: dict[str, Any]) -> None:
    for path, methods in ENDPOINTS.items():
        assert path in schema["paths"], path
        for method, codes in methods.items():
            responses = schema["paths"][path][method]["responses"]
            assert codes <= set(responses), (path, method, set(responses))
            for code in codes - {"200", "201", "202", "204"}:
                if path.startswith("/api/v1/health"):
                    continue
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorEnvelope"), (path, method, code)


def test_error_envelope_and_bearer_scheme_are_components(schema: dict[str, Any]) -> None:
    envelope = schema["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["properties"]) == {"code", "message", "fields"}
    assert set(envelope["required"]) == {"code", "message"}
    scheme = schema["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schema["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    login = schema["paths"]["/api/v1/auth/login"]["post"]
    assert login.get("security") in (None, [], [{}])


def test_request_bodies_are_described(schema: dict[str, Any]) -> None:
    body = schema["paths"]["/api/v1/auth/register"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {
        "email",
        "password",
        "display_name",
    }


def test_docs_render(api_client: APIClient) -> None:
    response = api_client.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
