"""PostgreSQL faults against the real request cycle: connections killed, the server restarted,
the server stopped and started again.

The application runs under gunicorn (one sync worker, so one persistent database connection,
``CONN_MAX_AGE`` and ``CONN_HEALTH_CHECKS`` as configured) against a PRIVATE PostgreSQL
cluster made for this test (initdb into a temporary directory, its own port), whose schema is
copied from this worker's test database. Only that cluster is killed and stopped; the shared
server of the test run is never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import close_old_connections, connection

from apps.accounts.models import User
from tests.conftest import client_for
from tests.faults.processes import AppServer, PrivatePostgres, Reply, postgres_binaries_missing
from tests.reliability_report import record, trial
from tests.side_connection import side_connection

pytestmark = pytest.mark.faults

APP_NAME = "faults-app"  # application_name of the application's connections
EMAIL = "faults@example.com"
PASSWORD = "a long enough passphrase for outages"


def _skip_reason() -> str | None:
    return postgres_binaries_missing()


@pytest.fixture
def private_app(db: Any, tmp_path: Path) -> Iterator[tuple[PrivatePostgres, AppServer]]:
    """The application under gunicorn on a private cluster. ``db`` only makes sure this
    worker's test database exists: its schema is what the private cluster gets."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    cluster = PrivatePostgres()
    server: AppServer | None = None
    try:
        cluster.init()
        cluster.start()
        cluster.copy_schema(source=connection.settings_dict, dbname="app")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": cluster.url("app", application_name=APP_NAME),
            "DATABASE_CONN_MAX_AGE": "600",
            "REDIS_URL": "",  # the local-memory cache: only the database is under test here
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "PYTHONUNBUFFERED": "1",
        }
        server = AppServer(env=env, workdir=tmp_path)
        server.start()
        yield cluster, server
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()


def _app_backends(cluster: PrivatePostgres) -> set[int]:
    with cluster.connect("app") as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s",
            [APP_NAME],
        ).fetchall()
    return {int(pid) for (pid,) in rows}


def _kill_connections(cluster: PrivatePostgres) -> int:
    """Terminates the application's backends and waits until each has exited (the timeout
    argument), so their goodbye has reached the sockets before the next request: a request
    racing the kill itself may fairly get the designed 503, which is not what this tests."""
    with cluster.connect("app") as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def _is_designed_503(reply: Reply) -> bool:
    return (
        reply.status == 503
        and isinstance(reply.body, dict)
        and reply.body.get("code") == "service_unavailable"
    )


def _counted(replies: list[Reply]) -> list[Reply]:
    """Counts the requests made under a fault, and the server errors among them (the JSON 503
    that says the database is down is the designed answer, not an error)."""
    record("requests_under_faults", len(replies))
    record(
        "server_errors_under_faults",
        sum(1 for r in replies if r.status >= 500 and not _is_designed_503(r)),
    )
    return replies


def _assert_unavailable_envelope(reply: Reply) -> None:
    assert reply.status == 503, reply
    assert reply.headers.get("Content-Type", "").startswith("application/json"), reply
    assert reply.body["code"] == "service_unavailable", reply
    assert reply.body["message"]
    assert reply.headers.get("Retry-After"), reply


def test_postgres_killed_restarted_stopped_and_back(
    private_app: tuple[PrivatePostgres, AppServer],
) -> None:
    cluster, app = private_app
    register = app.request("POST", "/api/v1/auth/register", {"email": EMAIL, "password": PASSWORD})
    assert register.status == 201, (register, app.logs())
    login = app.request("POST", "/api/v1/auth/login", {"email": EMAIL, "password": PASSWORD})
    assert login.status == 200, (login, app.logs())
    access, refresh = login.body["access"], login.body["refresh"]

    def journey() -> list[Reply]:
        return [
            app.request("GET", "/api/v1/me", token=access),
            app.request("GET", "/api/v1/dashboard", token=access),
            app.request("GET", "/api/v1/practice/summary", token=access),
            app.request("GET", "/api/v1/exams/sessions", token=access),
        ]

    assert [r.status for r in journey()] == [200] * 4
    before = _app_backends(cluster)
    assert before, "the application keeps no persistent connection"

    with trial("faults"):  # every connection killed: the next request reconnects
        assert _kill_connections(cluster) >= len(before)
        assert [r.status for r in _counted(journey())] == [200] * 4, app.logs()
        after = _app_backends(cluster)
        assert after
        assert after.isdisjoint(before)

    with trial("faults"):  # PostgreSQL restarted under the application
        cluster.restart()
        assert [r.status for r in _counted(journey())] == [200] * 4, app.logs()

    with trial("faults"):  # PostgreSQL stopped: a JSON 503, never a 500 or a hang
        cluster.stop()
        health = app.request("GET", "/api/v1/health")
        assert health.status == 503, health
        assert health.body["status"] == "unavailable"
        assert health.body["checks"]["database"]["status"] == "unavailable"
        assert app.request("GET", "/api/v1/health/live").status == 200  # the process is fine
        down = _counted(
            [
                *journey(),
                app.request("POST", "/api/v1/auth/login", {"email": EMAIL, "password": PASSWORD}),
                app.request("POST", "/api/v1/auth/refresh", {"refresh": refresh}),
            ]
        )
        for reply in down:
            _assert_unavailable_envelope(reply)

    with trial("faults"):  # PostgreSQL back: the very next requests succeed
        cluster.start()
        assert [r.status for r in _counted(journey())] == [200] * 4, app.logs()
        health = app.request("GET", "/api/v1/health")
        assert health.status == 200, health
        assert health.body["checks"]["database"]["status"] == "ok"
        # The outage consumed nothing: the refresh token sent while it lasted still works.
        again = app.request("POST", "/api/v1/auth/refresh", {"refresh": refresh})
        assert again.status == 200, again


@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_under_a_request_is_a_json_503_then_recovers(user: User) -> None:
    """In-process, on this worker's test database: only this test's own connection is killed.

    Django's test client skips the request signals on which the real request cycle checks and
    recycles connections, so the request that meets the dead connection shows what a client
    sees when a connection dies mid-request: the JSON 503, never a 500."""
    client = client_for(user)
    assert client.get("/api/v1/me").status_code == 200
    assert connection.connection is not None
    pid = connection.connection.info.backend_pid
    with side_connection() as other:
        (killed,) = other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() or (False,)
    assert killed

    with trial("faults"):
        hit = client.get("/api/v1/me")
        (reply,) = _counted([Reply(hit.status_code, dict(hit.headers), hit.json())])
        _assert_unavailable_envelope(reply)
        close_old_connections()  # what the end of every real request does
        again = client.get("/api/v1/me")
        assert again.status_code == 200, again.content
        assert connection.connection.info.backend_pid != pid
