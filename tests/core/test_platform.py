from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_unknown_api_path_is_json_404(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}


def test_schema_is_served_without_auth(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_request_id_is_echoed(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/schema", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"


def test_trace_is_refused(api_client: APIClient) -> None:
    response = api_client.generic("TRACE", "/api/v1/schema")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
