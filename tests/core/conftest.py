from __future__ import annotations

from typing import Any

import pytest

from tests.notifications.conftest import broker_redis, queue_name  # noqa: F401 - shared fixtures

CLOSED_REDIS_CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6390/0",  # nothing listens here
        "KEY_PREFIX": "redis-down",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.05,
            "SOCKET_TIMEOUT": 0.05,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


@pytest.fixture
def closed_cache(settings: Any) -> None:
    """Points the cache at a closed port, with a fresh connection (Redis is "down").

    Goes through pytest-django's ``settings`` fixture so that it unwinds in the right order
    with any other setting a test changes (a separate override_settings would be restored
    out of order and leave the dead cache in place for later tests)."""
    settings.CACHES = CLOSED_REDIS_CACHES
