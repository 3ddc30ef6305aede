"""Fixtures for fault injection: a private Redis per test, and the Django cache pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.processes import REDIS_SERVER, PrivateRedis

# The cache client's budget per Redis call while a fault is injected. A request makes a handful
# of cache calls, so a stopped or frozen Redis costs it at most a few of these.
FAULT_SOCKET_TIMEOUT = 0.25


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, started; always stopped (and thawed) afterwards."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def private_cache_settings(server: PrivateRedis) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": FAULT_SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": FAULT_SOCKET_TIMEOUT,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }


@pytest.fixture
def private_cache(settings: Any, private_redis: PrivateRedis) -> PrivateRedis:
    """The Django cache on the private Redis, configured as in production (errors ignored,
    short socket timeouts). Set through pytest-django's ``settings`` fixture, which restores
    the shared cache after the test."""
    settings.CACHES = private_cache_settings(private_redis)
    return private_redis
