"""The database backend's health check: no round trip on a quiet connection, and a connection
the server has closed is still replaced before the request's first query.

Runs on this worker's test database with its own connection (``transaction=True``: outside a
test transaction, as a request's connection is between requests)."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoPostgres

from tests.side_connection import side_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def select_one_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the ``SELECT 1`` checks Django's own health check makes."""
    calls: list[int] = []
    original = DjangoPostgres.is_usable

    def counting(self: DjangoPostgres) -> bool:
        calls.append(1)
        return original(self)

    monkeypatch.setattr(DjangoPostgres, "is_usable", counting)
    return calls


def _new_request() -> None:
    """What the start of a request does to a persistent connection (the check runs once per
    request, before its first query)."""
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def _terminate(pid: int) -> None:
    with side_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(200):  # until the backend has gone (it sends its FATAL first)
            (alive,) = other.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone() or (0,)
            if not alive:
                return
            time.sleep(0.01)
    raise AssertionError("the backend did not exit")


def test_the_backend_is_in_use() -> None:
    assert connection.settings_dict["ENGINE"] == "apps.core.postgres"
    assert connection.vendor == "postgresql"
    assert connection.health_check_enabled


def test_a_quiet_connection_is_reused_without_a_round_trip(select_one_checks: list[int]) -> None:
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    for _ in range(5):
        _new_request()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone() == (pid,)
    assert select_one_checks == []


def test_a_connection_the_server_closed_is_replaced_before_the_first_query(
    select_one_checks: list[int],
) -> None:
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    _terminate(pid)

    _new_request()

    assert select_one_checks == [1]  # something had arrived on the socket: the full check ran
    with connection.cursor() as cursor:  # and the request's first query works
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()
    assert new_pid != pid


def test_a_connection_left_in_a_transaction_gets_the_full_check(
    select_one_checks: list[int],
) -> None:
    connection.ensure_connection()
    connection.connection.execute("BEGIN")
    try:
        _new_request()
        assert select_one_checks == [1]
    finally:
        if connection.connection is not None and not connection.connection.closed:
            connection.connection.execute("ROLLBACK")
