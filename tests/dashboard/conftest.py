from __future__ import annotations

from typing import Any

import pytest

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


# Both go through pytest-django's ``settings`` fixture so they unwind in order with any other
# setting a test changes.
@pytest.fixture
def redis_down(settings: Any) -> None:
    """Redis unreachable, configured as in production (errors are logged, reads miss)."""
    settings.CACHES = dead_cache(ignore_exceptions=True)


@pytest.fixture
def redis_down_raising(settings: Any) -> None:
    """Redis unreachable and every cache call raising: the dashboard's own guards must hold."""
    settings.DJANGO_REDIS_IGNORE_EXCEPTIONS = False
    settings.CACHES = dead_cache(ignore_exceptions=False)


@pytest.fixture
def categories(db: Any) -> list[Category]:
    names = ["Anatomy & Embryology", "Physiology", "Pathology", "Cancer and Palliative Care"]
    return [CategoryFactory(name=name, slug=f"topic-{i}", order=i) for i, name in enumerate(names)]
