"""Small helpers for auth tests: log in through the API, read tokens, forge bad ones."""

from __future__ import annotations

from typing import Any

import jwt
from django.conf import settings
from rest_framework.test import APIClient

from tests.accounts.factories import DEFAULT_PASSWORD


def login(client: APIClient, email: str, password: str = DEFAULT_PASSWORD, **extra: Any) -> Any:
    return client.post("/api/v1/auth/login", {"email": email, "password": password}, **extra)


def tokens_for(email: str, password: str = DEFAULT_PASSWORD, **extra: Any) -> dict[str, str]:
    response = login(APIClient(), email, password, **extra)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def forge(payload: dict[str, Any]) -> str:
    return jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
