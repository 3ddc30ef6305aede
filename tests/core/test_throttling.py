"""The general throttles count per caller and fixed window in Redis, in one round trip."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.api.throttling import AnonRateThrottle, UserRateThrottle
from tests.accounts.factories import UserFactory
from tests.accounts.test_api import assert_envelope
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# 20 s into the next minute: a window of 60 s ends 40 s later (close to the real clock, so the
# tokens' own times stay valid).
MID_WINDOW = datetime.fromtimestamp((time.time() // 60 + 1) * 60 + 20, tz=UTC)
NEXT_WINDOW = MID_WINDOW + timedelta(minutes=1)


@pytest.fixture
def three_per_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    rates = {"user": "3/min", "anon": "3/min"}
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)


def _counters() -> dict[str, int]:
    redis = get_redis_connection("default")
    keys = redis.keys(cache.make_key("throttle_*"))
    return {k.decode(): int(redis.get(k)) for k in keys}


def test_the_fourth_request_in_a_window_is_a_429_with_the_rest_of_the_window(
    user: User, three_per_minute: None
) -> None:
    client = client_for(user)
    other = client_for(UserFactory())
    with time_machine.travel(MID_WINDOW, tick=False):
        for _ in range(3):
            assert client.get("/api/v1/me").status_code == 200
        refused = client.get("/api/v1/me")
        assert other.get("/api/v1/me").status_code == 200  # counted per caller
    assert_envelope(refused, 429, "throttled")
    assert 40 <= int(refused["Retry-After"]) <= 41  # the rest of the window, rounded up
    counters = _counters()
    assert sorted(counters.values()) == [1, 4]
    redis = get_redis_connection("default")
    assert all(0 < redis.ttl(key) <= 61 for key in counters)  # the counters expire


def test_a_new_window_starts_a_new_count(user: User, three_per_minute: None) -> None:
    client = client_for(user)
    with time_machine.travel(MID_WINDOW, tick=False):
        for _ in range(3):
            assert client.get("/api/v1/me").status_code == 200
        assert client.get("/api/v1/me").status_code == 429
    with time_machine.travel(NEXT_WINDOW, tick=False):
        assert client.get("/api/v1/me").status_code == 200


def test_anonymous_callers_are_counted_by_address(three_per_minute: None) -> None:
    client = APIClient()
    with time_machine.travel(MID_WINDOW, tick=False):
        statuses = [client.get("/api/v1/pages/no-such-page").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


def test_with_redis_down_the_throttle_lets_requests_through(
    user: User, closed_cache: None, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1/min", "anon": "1/min"})
    client = client_for(user)
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    assert "throttle counter unavailable" in caplog.text
