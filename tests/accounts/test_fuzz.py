"""Arbitrary JSON bodies never make the public auth endpoints fail with a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "email": json_values,
            "password": json_values,
            "refresh": json_values,
            "token": json_values,
            "display_name": json_values,
        },
    ),
)
PATHS = [
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/verify-email",
    "/api/v1/auth/forgot-password",
    "/api/v1/auth/reset-password",
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(PATHS), body=bodies)
def test_public_auth_endpoints_answer_4xx_envelopes_never_5xx(
    api_client: APIClient, path: str, body: Any
) -> None:
    response = api_client.post(path, body, format="json")
    assert response.status_code < 500, (path, body, response.content)
    if response.status_code >= 400:
        assert {"code", "message"} <= set(response.json())
