"""Slow query log: statements over SLOW_QUERY_MS are logged as JSON with their duration and
SQL, never their parameters; nothing is installed when the setting is unset."""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction

from apps.accounts.models import User
from apps.core.logging import JsonFormatter, RequestContextFilter
from apps.core.observability.slow_queries import SlowQueryLogger, install_slow_query_logging
from apps.core.request_context import request_id_var
from tests.observability.conftest import run_python

LOGGER = "apps.core.slow_queries"


@pytest.fixture
def no_slow_query_logger() -> Iterator[None]:
    """Leaves the test connection's wrappers as it found them."""
    before = list(connection.execute_wrappers)
    yield
    connection.execute_wrappers[:] = before


def slow_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


@pytest.mark.django_db
def test_a_query_over_the_threshold_is_logged_without_its_parameters(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with connection.execute_wrapper(SlowQueryLogger(threshold_ms=0)):
        assert not User.objects.filter(email="private.person@example.org").exists()

    [record] = slow_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "slow query"
    sql: str = record.sql
    assert sql.startswith("SELECT")
    assert "%s" in sql
    assert "private.person" not in sql
    assert record.duration_ms >= 0
    assert record.threshold_ms == 0
    assert record.db_alias == "default"

    # Through the project's JSON formatter, with the request id of the request that ran it.
    token = request_id_var.set("req-slow-1")
    try:
        RequestContextFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["logger"] == LOGGER
    assert line["request_id"] == "req-slow-1"
    assert line["sql"] == sql
    assert isinstance(line["duration_ms"], float)
    assert "private.person" not in json.dumps(line)


@pytest.mark.django_db
def test_queries_under_the_threshold_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with connection.execute_wrapper(SlowQueryLogger(threshold_ms=60_000)):
        User.objects.count()
    assert slow_records(caplog) == []


@pytest.mark.django_db
def test_a_failing_statement_is_still_timed_and_its_error_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with (
        connection.execute_wrapper(SlowQueryLogger(threshold_ms=0)),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT * FROM no_such_table_here")
    logged = [r.sql for r in slow_records(caplog)]
    assert "SELECT * FROM no_such_table_here" in logged  # besides the savepoint statements


@pytest.mark.django_db
@pytest.mark.usefixtures("no_slow_query_logger")
def test_installed_once_when_the_setting_is_set(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    settings.SLOW_QUERY_MS = 0
    assert install_slow_query_logging(connection) is True
    assert install_slow_query_logging(connection) is False
    assert sum(isinstance(w, SlowQueryLogger) for w in connection.execute_wrappers) == 1
    User.objects.count()
    assert len(slow_records(caplog)) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("no_slow_query_logger")
def test_nothing_installed_when_the_setting_is_unset(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    settings.SLOW_QUERY_MS = None
    assert install_slow_query_logging(connection) is False
    assert not any(isinstance(w, SlowQueryLogger) for w in connection.execute_wrappers)
    User.objects.count()
    assert slow_records(caplog) == []


@pytest.mark.django_db
def test_every_new_connection_gets_the_logger(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The ``connection_created`` hook: a connection opened while the setting is on logs."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    settings.SLOW_QUERY_MS = 0
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SELECT 1 AS fresh_connection_probe")
    finally:
        fresh.close()
    assert any(isinstance(w, SlowQueryLogger) for w in fresh.execute_wrappers)
    assert [r.sql for r in slow_records(caplog)] == ["SELECT 1 AS fresh_connection_probe"]


def test_on_in_development_settings_only() -> None:
    code = textwrap.dedent(
        """
        import importlib, json
        base = importlib.import_module("config.settings.base")
        local = importlib.import_module("config.settings.local")
        print(json.dumps([base.SLOW_QUERY_MS, local.SLOW_QUERY_MS]))
        """
    )
    # Named servers, so the development settings start nothing embedded (nothing connects).
    result = run_python(
        code,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/openmrcs",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [None, 100]
