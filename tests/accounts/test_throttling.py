"""The sensitive throttles of the public auth endpoints (login, register, password reset): an
exact sliding window in Redis, a durable count in PostgreSQL when Redis is unreachable (see
tests/core/test_redis_down.py), and the reset emails per address always counted in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django_redis import get_redis_connection
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from apps.accounts import services
from apps.accounts.models import RateLimitHit, User
from tests.accounts.test_api import assert_envelope

pytestmark = pytest.mark.django_db

START = datetime(2030, 7, 1, 8, 0, tzinfo=UTC)


def forgot(client: APIClient, email: str) -> Any:
    return client.post("/api/v1/auth/forgot-password", {"email": email})


def test_the_window_slides_in_redis(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch, time_machine: Any
) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"password_reset": "2/min"})
    time_machine.move_to(START, tick=False)
    assert forgot(api_client, "a@example.com").status_code == 202
    time_machine.move_to(START + timedelta(seconds=30), tick=False)
    assert forgot(api_client, "b@example.com").status_code == 202
    time_machine.move_to(START + timedelta(seconds=50), tick=False)
    refused = forgot(api_client, "c@example.com")
    assert_envelope(refused, 429, "throttled")
    assert 10 <= int(refused["Retry-After"]) <= 12  # when the first request leaves the window
    time_machine.move_to(START + timedelta(seconds=61), tick=False)
    assert forgot(api_client, "d@example.com").status_code == 202  # one left the window
    assert_envelope(forgot(api_client, "e@example.com"), 429, "throttled")
    redis = get_redis_connection("default")
    keys = redis.keys(cache.make_key("throttle_password_reset_*"))
    assert len(keys) == 1
    assert redis.zcard(keys[0]) == 2  # refused requests are not recorded
    assert 0 < redis.ttl(keys[0]) <= 61
    # In PostgreSQL only the three addresses' reset counts: nothing for the throttle.
    assert RateLimitHit.objects.count() == 3


def test_reset_emails_per_address_are_limited_with_redis_up_too(
    api_client: APIClient, user: User, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    time_machine.move_to(START, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(7):
            response = api_client.post(
                "/api/v1/auth/forgot-password",
                {"email": user.email.upper()},
                REMOTE_ADDR=f"10.1.{i}.1",
            )
            assert response.status_code == 202
    assert len(mail.outbox) == 5
    # Unregistered addresses are counted the same way (the work done does not tell them apart).
    for _ in range(6):
        forgot(api_client, "nobody@example.com")
    assert RateLimitHit.objects.count() == 10
    # An hour later the address gets links again.
    time_machine.move_to(START + timedelta(hours=1, seconds=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        forgot(api_client, user.email)
    assert len(mail.outbox) == 6


def test_durable_slots_count_within_the_window_and_refusals_are_free(time_machine: Any) -> None:
    time_machine.move_to(START, tick=False)
    window = timedelta(minutes=10)
    takes = [services.take_durable_slot(bucket="x", limit=3, window=window) for _ in range(3)]
    assert takes == [0, 0, 0]
    time_machine.move_to(START + timedelta(minutes=4), tick=False)
    for _ in range(5):
        assert services.take_durable_slot(bucket="x", limit=3, window=window) == 6 * 60 + 1
    assert RateLimitHit.objects.count() == 3
    assert services.take_durable_slot(bucket="y", limit=3, window=window) == 0  # its own count
    time_machine.move_to(START + timedelta(minutes=10, seconds=1), tick=False)
    assert services.take_durable_slot(bucket="x", limit=3, window=window) == 0
    # Neither the bucket's name nor anything in it is stored in clear.
    assert not RateLimitHit.objects.filter(bucket__in=("x", "y")).exists()


def test_an_overrun_by_concurrent_requests_is_given_back(time_machine: Any) -> None:
    """Two requests that both saw room: the one that finds the limit passed on recounting
    takes its row back, so the limit is never exceeded."""
    time_machine.move_to(START, tick=False)
    window = timedelta(minutes=1)
    assert services.take_durable_slot(bucket="z", limit=2, window=window) == 0
    real_create = RateLimitHit.objects.create

    def create_with_a_concurrent_one(**kwargs: Any) -> RateLimitHit:
        real_create(**kwargs)  # another request's row, inserted between our check and insert
        return real_create(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RateLimitHit.objects, "create", create_with_a_concurrent_one)
        assert services.take_durable_slot(bucket="z", limit=2, window=window) > 0
    assert RateLimitHit.objects.count() == 2
