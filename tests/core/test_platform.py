from __future__ import annotations

from typing import Any

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


@pytest.mark.parametrize("key", ["access", "access_token", "refresh", "token", "jwt"])
def test_tokens_in_the_query_string_are_refused(api_client: APIClient, key: str) -> None:
    response = api_client.get(f"/api/v1/health/live?{key}=abc")
    assert response.status_code == 400
    assert response.json()["code"] == "token_in_url"


def test_unhandled_errors_are_a_json_500_without_traceback() -> None:
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    class Boom(APIView):
        authentication_classes = ()
        permission_classes = ()

        def get(self, request: Any) -> Any:
            raise RuntimeError("secret internals")

    response = Boom.as_view()(APIRequestFactory().get("/api/v1/boom"))
    assert response.status_code == 500
    assert response.data == {"code": "server_error", "message": "An unexpected error occurred."}
