"""Every exam endpoint is in the OpenAPI schema with its success and error bodies."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/exams/templates": {"get": {"200", "401"}},
    "/api/v1/exams/sessions": {"get": {"200", "401"}, "post": {"200", "201", "400", "404", "409"}},
    "/api/v1/exams/sessions/{session_id}": {"get": {"200", "401", "404"}},
    "/api/v1/exams/sessions/{session_id}/attempts": {"post": {"200", "400", "404", "409"}},
    "/api/v1/exams/sessions/{session_id}/submit": {"post": {"200", "404"}},
    "/api/v1/exams/sessions/{session_id}/review": {"get": {"200", "404", "409"}},
}


def test_exam_endpoints_are_documented(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    for path, methods in ENDPOINTS.items():
        assert path in schema["paths"], path
        for method, codes in methods.items():
            documented = set(schema["paths"][path][method]["responses"])
            assert codes <= documented, (path, method, codes - documented)
