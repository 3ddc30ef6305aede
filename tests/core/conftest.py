from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

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
def closed_cache() -> Iterator[None]:
    """Points the cache at a closed port, with a fresh connection (Redis is "down")."""
    with override_settings(CACHES=CLOSED_REDIS_CACHES):
        yield
