"""Fixtures for fault injection: a private Redis per test, and the Django cache pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_redis.pool import ConnectionFactory

from tests.faults.processes import REDIS_SERVER, PrivateRedis

# The cache client's budget per Redis call while a fault is injected (the production default).
# A request makes a handful of cache calls, so a stopped or frozen Redis costs it at most a few
# of these.
FAULT_SOCKET_TIMEOUT = 0.25
# Outside the fault, a generous budget, so that a loaded test machine never turns a slow but
# healthy reply into a miss (which would fail the checks that the cache works again).
HEALTHY_SOCKET_TIMEOUT = 2.0


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


def private_cache_settings(server: PrivateRedis, *, timeout: float) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": timeout,
                "SOCKET_TIMEOUT": timeout,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }


class PrivateCache:
    """The Django cache on a private Redis, errors ignored as in production.

    Settings go through pytest-django's ``settings`` fixture, which restores the shared cache
    after the test. django-redis keeps one connection pool per URL for the life of the process
    (with the timeouts it was made with), so a change of budget first drops this private URL's
    pool; no other pool is touched."""

    def __init__(self, settings: Any, server: PrivateRedis) -> None:
        self.settings = settings
        self.server = server
        self.healthy()

    def healthy(self) -> None:
        """Generous timeouts: for checking that the cache works."""
        self._configure(HEALTHY_SOCKET_TIMEOUT)

    def under_fault(self) -> None:
        """The production-like short timeouts that bound a request's wait on a sick Redis."""
        self._configure(FAULT_SOCKET_TIMEOUT)

    def _configure(self, timeout: float) -> None:
        self.forget_pool()
        self.settings.CACHES = private_cache_settings(self.server, timeout=timeout)

    def forget_pool(self) -> None:
        pool = ConnectionFactory._pools.pop(self.server.url, None)
        if pool is not None:
            pool.disconnect(inuse_connections=False)


@pytest.fixture
def private_cache(settings: Any, private_redis: PrivateRedis) -> Iterator[PrivateCache]:
    private = PrivateCache(settings, private_redis)
    yield private
    private.forget_pool()
