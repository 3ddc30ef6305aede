"""Failed authorisation is logged (ASVS 5.0 16.3.2 / 4.0.3 7.2.2): every 401 and 403, and a 404
on a route naming an object, is one WARNING line with code, method, path and caller, never a
credential; the request id comes from the logging filter."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, User
from apps.core.logging import JsonFormatter, RequestContextFilter

pytestmark = pytest.mark.django_db

LOGGER = "apps.core.security"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The security logger's output as the production handler formats it (filter included)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_anonymous_401_is_logged_without_the_token(
    caplog: pytest.LogCaptureFixture, json_lines: io.StringIO
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    bogus = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bogus}")
    response = client.get("/api/v1/me")
    assert response.status_code == 401

    (record,) = refusals(caplog)
    assert record.levelno == logging.WARNING
    assert record.status == 401
    assert record.code == response.json()["code"]
    assert record.method == "GET"
    assert record.path == "/api/v1/me"
    assert record.user_id is None
    (line,) = parsed(json_lines)
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "WARNING"
    assert bogus not in json_lines.getvalue()
    assert bogus[-20:] not in caplog.text


def test_403_names_the_caller(
    caplog: pytest.LogCaptureFixture, json_lines: io.StringIO, user: User, user_client: APIClient
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    response = user_client.post("/api/v1/questions", {}, format="json")  # editors only
    assert response.status_code == 403

    (record,) = refusals(caplog)
    assert record.status == 403
    assert record.code == "permission_denied"
    assert record.method == "POST"
    assert record.user_id == user.pk
    (line,) = parsed(json_lines)
    assert line["user_id"] == user.pk
    assert line["request_id"] == response["X-Request-ID"]
    token = user_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    assert token not in json_lines.getvalue()


def test_another_users_object_is_a_logged_404(
    caplog: pytest.LogCaptureFixture,
    user: User,
    user_client: APIClient,
    other_user: User,
    other_client: APIClient,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    device = AuthSession.objects.filter(user=other_user).first()
    assert device is not None
    response = user_client.delete(f"/api/v1/me/devices/{device.pk}")
    assert response.status_code == 404

    (record,) = refusals(caplog)
    assert record.status == 404
    assert record.path == f"/api/v1/me/devices/{device.pk}"
    assert record.user_id == user.pk
    device.refresh_from_db()
    assert device.revoked_at is None


def test_successes_bad_input_and_unknown_paths_are_not_refusals(
    caplog: pytest.LogCaptureFixture, user_client: APIClient
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    assert user_client.get("/api/v1/me").status_code == 200
    bad = user_client.post("/api/v1/auth/change-password", {}, format="json")
    assert bad.status_code == 400
    assert user_client.get("/api/v1/no-such-route").status_code == 404
    assert refusals(caplog) == []
