"""A failure that repeats on every call is logged once, then once a minute with a count."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.logging import RepeatSuppressFilter


def _record(message: str = "Exception ignored", error: type[BaseException] | None = None) -> Any:
    exc_info = (error, error(), None) if error else None
    return logging.LogRecord("apps.core.cache", logging.ERROR, __file__, 1, message, (), exc_info)


def test_the_first_passes_then_one_per_interval_with_how_many_were_held_back() -> None:
    now = [100.0]
    gate = RepeatSuppressFilter(interval=60.0, clock=lambda: now[0])
    first = _record(error=ConnectionError)
    assert gate.filter(first)
    assert not hasattr(first, "suppressed")
    held = [gate.filter(_record(error=ConnectionError)) for _ in range(5)]
    assert held == [False] * 5
    now[0] += 59.9
    assert not gate.filter(_record(error=ConnectionError))
    now[0] += 0.2
    later = _record(error=ConnectionError)
    assert gate.filter(later)
    assert later.suppressed == 6
    # Another kind (another exception, another message) has its own window.
    assert gate.filter(_record(error=TimeoutError))
    assert gate.filter(_record("Something else", error=ConnectionError))


@pytest.fixture
def cache_log_gate() -> Iterator[RepeatSuppressFilter]:
    logger = logging.getLogger("apps.core.cache")
    (gate,) = [f for f in logger.filters if isinstance(f, RepeatSuppressFilter)]
    gate.reset()
    yield gate
    gate.reset()


@pytest.mark.django_db
def test_with_redis_down_many_requests_log_the_cache_failure_once(
    api_client: APIClient,
    user: User,
    closed_cache: None,
    cache_log_gate: RepeatSuppressFilter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api_client.force_authenticate(user)
    with caplog.at_level(logging.ERROR, logger="apps.core.cache"):
        for _ in range(5):
            assert api_client.get("/api/v1/dashboard").status_code == 200
    cache_errors = [r for r in caplog.records if r.name == "apps.core.cache"]
    assert len(cache_errors) == 1
    assert cache_errors[0].exc_info is not None  # the one that passes keeps its traceback


def test_applying_the_logging_configuration_again_keeps_one_gate(settings: Any) -> None:
    """A Celery worker applies LOGGING a second time (its setup_logging signal)."""
    logging.config.dictConfig(settings.LOGGING)
    logger = logging.getLogger("apps.core.cache")
    assert len([f for f in logger.filters if isinstance(f, RepeatSuppressFilter)]) == 1
