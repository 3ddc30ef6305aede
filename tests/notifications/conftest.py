"""Pointing this process's Celery app at a chosen broker (a dead port, or the test Redis)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from kombu import pools as kombu_pools

from config.celery import app as celery_app

# A dedicated database of the tests' Redis (REDIS_URL: the machine's or the embedded one) for
# broker tests, apart from the cache (database 0).
_REDIS = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
TEST_BROKER_URL = os.environ.get(
    "NOTIFICATIONS_TEST_BROKER_URL", urlunsplit(_REDIS._replace(path="/9"))
)
# Nothing listens on port 1: every publish fails at once with "connection refused".
DEAD_BROKER_URL = "redis://127.0.0.1:1/0"


def _reset_pools(app: Celery) -> None:
    """Forgets every cached broker connection, so the next publish uses the current URL."""
    kombu_pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def _reset_routes(app: Celery) -> None:
    """Makes the next publish read ``task_routes`` again (Celery keeps its router once built)."""
    app.amqp._rtable = None
    app.amqp.__dict__.pop("router", None)


@contextmanager
def use_broker(url: str, *, queue: str | None = None) -> Iterator[Celery]:
    """Publishes to ``url`` (really, not eagerly) inside the block; restores everything after."""
    keys = ("broker_url", "task_always_eager", "task_default_queue", "task_routes")
    saved = {key: celery_app.conf[key] for key in keys}
    _reset_pools(celery_app)
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    if queue:
        # Every task to this queue, whatever its route in config/celery.py.
        celery_app.conf.task_default_queue = queue
        celery_app.conf.task_routes = {"*": {"queue": queue}}
    _reset_routes(celery_app)
    try:
        yield celery_app
    finally:
        _reset_pools(celery_app)
        for key, value in saved.items():
            celery_app.conf[key] = value
        _reset_routes(celery_app)


@pytest.fixture
def queue_name() -> str:
    """A queue no other test run shares."""
    return f"test-notifications-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def broker_redis() -> Iterator[object]:
    import redis

    client = redis.Redis.from_url(TEST_BROKER_URL)
    try:
        client.ping()
    except redis.RedisError as exc:  # pragma: no cover - the suite needs Redis anyway
        pytest.fail(f"test Redis not reachable at {TEST_BROKER_URL}: {exc}")
    yield client
    client.close()
