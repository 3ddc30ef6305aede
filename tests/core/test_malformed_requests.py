"""Malformed requests are the client's fault: a 4xx in the error envelope, never a 500, and
nothing logged at ERROR (issue 13, item 1).

Each case names the kind of body; ``tests/trust/test_fuzz.py`` sends the same kinds to every
write operation of the schema."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.exceptions import DisallowedHost, SuspiciousOperation
from django.test import Client

from apps.core.api.exception_handler import handle_exception
from tests.conftest import client_for
from tests.exams.factories import blueprint_template, make_bank

pytestmark = pytest.mark.django_db

VERIFY_EMAIL = "/api/v1/auth/verify-email"  # public: reachable without a login


def deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def form_fields(count: int) -> bytes:
    return "&".join(f"f{i}=1" for i in range(count)).encode()


def multipart_fields(count: int, *, value: str = "1") -> tuple[bytes, str]:
    boundary = "b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n{value}\r\n'
        for i in range(count)
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, f"multipart/form-data; boundary={boundary}"


def assert_client_fault(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) <= {"code", "message", "fields"}
    assert body["code"] == code
    assert body["message"]
    return body


@pytest.fixture
def no_error_logs(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.INFO)
    yield caplog
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [(r.name, r.getMessage()) for r in errors]


def test_a_json_body_nested_100000_deep_is_400_without_a_login(no_error_logs: Any) -> None:
    response = Client().post(VERIFY_EMAIL, deep_json(), content_type="application/json")
    body = assert_client_fault(response, 400, "parse_error")
    assert "deep" in body["message"]


def test_a_json_body_over_the_upload_limit_is_413(settings: Any, no_error_logs: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    payload = b'{"token": "' + b"a" * 10_000 + b'"}'
    response = Client().post(VERIFY_EMAIL, payload, content_type="application/json")
    assert_client_fault(response, 413, "payload_too_large")


@pytest.mark.parametrize("kind", ["form", "multipart"])
def test_a_body_over_the_upload_limit_is_413_in_any_form_encoding(
    kind: str, settings: Any, no_error_logs: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    if kind == "form":
        body, content_type = b"token=" + b"a" * 10_000, "application/x-www-form-urlencoded"
    else:
        body, content_type = multipart_fields(1, value="a" * 10_000)
    response = Client().post(VERIFY_EMAIL, body, content_type=content_type)
    assert_client_fault(response, 413, "payload_too_large")


@pytest.mark.parametrize("kind", ["form", "multipart"])
def test_more_form_fields_than_the_limit_is_400(
    kind: str, settings: Any, user: Any, no_error_logs: Any
) -> None:
    """Where schema fuzzing found it: POST /exams/sessions/{id}/attempts."""
    (category,) = make_bank(categories=1, per_category=2)
    template = blueprint_template({category: 2})
    client = client_for(user)
    session = client.post("/api/v1/exams/sessions", {"template_id": template.pk}, format="json")
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if kind == "form":
        body, content_type = form_fields(limit + 1), "application/x-www-form-urlencoded"
    else:
        body, content_type = multipart_fields(limit + 1)
    response = client.generic(
        "POST",
        f"/api/v1/exams/sessions/{session.json()['id']}/attempts",
        body,
        content_type=content_type,
    )
    assert_client_fault(response, 400, "too_many_fields")


def test_invalid_json_and_an_unsupported_content_type_are_4xx(no_error_logs: Any) -> None:
    client = Client()
    broken = client.post(VERIFY_EMAIL, b'{"token": ', content_type="application/json")
    assert_client_fault(broken, 400, "parse_error")
    xml = client.post(VERIFY_EMAIL, b"<token>x</token>", content_type="application/xml")
    assert_client_fault(xml, 415, "unsupported_media_type")


@pytest.mark.parametrize("exc", [SuspiciousOperation("odd"), DisallowedHost("evil")])
def test_any_suspicious_operation_in_a_view_is_a_400_warning(
    exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = handle_exception(exc, {"request": None, "view": None, "kwargs": {}})
    assert response is not None
    assert response.status_code == 400
    assert response.data["code"] == "bad_request"
    assert [r.levelname for r in caplog.records if r.name == "apps.core.security"] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
