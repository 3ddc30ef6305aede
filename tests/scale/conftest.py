"""Fixtures for the replica routing tests: a ``replica`` alias in this process's connections
(a second connection to the test database, which a test may point elsewhere), and the fault
tests' private Redis and cache."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connections

from apps.core.db_routing import REPLICA, replica_health
from tests.faults.conftest import private_cache, private_redis

__all__ = ["private_cache", "private_redis", "replica_alias", "replica_in_connections"]

PointReplica = Callable[..., None]


@pytest.fixture(scope="module")
def replica_in_connections(django_db_setup: Any) -> Iterator[None]:
    """For a whole module: the alias exists before its tests' database set-up, so the tests can
    name it in ``django_db(databases=...)``; it mirrors ``default`` (never created or flushed)."""
    default = connections.settings["default"]
    connections.settings[REPLICA] = {
        **default,
        "OPTIONS": dict(default["OPTIONS"]),
        "TEST": {**default["TEST"], "MIRROR": "default"},
    }
    yield
    with contextlib.suppress(Exception):
        connections[REPLICA].close()
    with contextlib.suppress(AttributeError):
        del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica_alias(replica_in_connections: None, settings: Any) -> Iterator[PointReplica]:
    """``point(**overrides)`` points the alias elsewhere (a port, a database) for one test. The
    verdict on the replica is checked on every read."""
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    replica_health.forget()
    saved = dict(connections.settings[REPLICA])

    def point(**overrides: Any) -> None:
        connections[REPLICA].close()
        connections.settings[REPLICA].update(overrides)

    yield point
    connections[REPLICA].close()
    connections.settings[REPLICA].clear()
    connections.settings[REPLICA].update(saved)
    replica_health.forget()
