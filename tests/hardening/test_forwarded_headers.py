"""Intermediary headers cannot be forged (ASVS 5.0 4.1.3): without configured proxies a client's
X-Forwarded-For is ignored, and with them only the entry our own proxy appended is believed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, User
from apps.core.api.client import client_ip
from tests.accounts.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_a_forged_forwarded_for_is_ignored_without_proxies(settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": None}
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert client_ip(request) == "198.51.100.7"


def test_with_one_proxy_only_the_entry_it_appended_counts(settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # The client sent "X-Forwarded-For: 10.0.0.1"; our proxy appended the address it saw.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.5"
    )
    assert client_ip(request) == "203.0.113.5"
    garbage = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="x, nonsense")
    assert client_ip(garbage) is None


def test_the_device_session_records_the_real_address_not_the_forged_one(
    settings: Any, user: User
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": None}
    response = APIClient().post(
        "/api/v1/auth/login",
        {"email": user.email, "password": DEFAULT_PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="10.9.8.7",
    )
    assert response.status_code == 200, response.content
    session = AuthSession.objects.get(user=user)
    assert session.ip_address == "198.51.100.7"
