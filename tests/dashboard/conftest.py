from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from apps.taxonomy.models import Category
from tests.taxonomy.factories import CategoryFactory


def dead_cache(*, ignore_exceptions: bool) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6391/0",  # nothing listens here
            "KEY_PREFIX": "dashboard-redis-down",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.05,
                "SOCKET_TIMEOUT": 0.05,
                "IGNORE_EXCEPTIONS": ignore_exceptions,
            },
        }
    }


@pytest.fixture
def redis_down() -> Iterator[None]:
    """Redis unreachable, configured as in production (errors are logged, reads miss)."""
    with override_settings(CACHES=dead_cache(ignore_exceptions=True)):
        yield


@pytest.fixture
def redis_down_raising() -> Iterator[None]:
    """Redis unreachable and every cache call raising: the dashboard's own guards must hold."""
    with override_settings(
        CACHES=dead_cache(ignore_exceptions=False), DJANGO_REDIS_IGNORE_EXCEPTIONS=False
    ):
        yield


@pytest.fixture
def categories(db: Any) -> list[Category]:
    names = ["Anatomy & Embryology", "Physiology", "Pathology", "Cancer and Palliative Care"]
    return [CategoryFactory(name=name, slug=f"topic-{i}", order=i) for i, name in enumerate(names)]
