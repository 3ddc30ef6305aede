"""The embedded PostgreSQL and Redis of ``make run`` and of ``make test`` on a bare machine
(config/embedded.py), in a folder of the test's own: started, reused, data kept, stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from config import embedded

ROOT_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def root() -> Iterator[Path]:
    # Not under pytest's tmp_path (mode 0700 for root): the cluster's OS user must reach it.
    folder = Path(f"/tmp/openmrcs-embedded-test-{os.getpid()}")
    folder.mkdir(exist_ok=True)
    try:
        yield folder
    finally:
        embedded.stop_redis(folder)
        embedded.stop_postgres(folder)
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def test_postgres_starts_keeps_its_data_and_stops(root: Path) -> None:
    first = embedded.start_postgres(root)
    assert first.started
    with psycopg.connect(first.url, autocommit=True) as conn:
        assert conn.execute("SHOW server_version").fetchone()[0].startswith("18.")  # type: ignore[index]
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")

    again = embedded.start_postgres(root)
    assert (again.url, again.started) == (first.url, False)  # reused as it is

    assert embedded.stop_postgres(root)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(first.url, connect_timeout=2).close()
    assert not embedded.stop_postgres(root)  # nothing left to stop

    restarted = embedded.start_postgres(root)
    assert restarted.started
    with psycopg.connect(restarted.url) as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("still here",)]


def test_redis_starts_is_reused_and_stops(root: Path) -> None:
    first = embedded.start_redis(root)
    assert first.started
    client = redis.Redis.from_url(first.url)
    assert client.ping()
    assert embedded.start_redis(root) == embedded.Server("redis", first.url, started=False)
    assert embedded.stop_redis(root)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(first.url, socket_connect_timeout=1).ping()


def test_services_test_mode_prefers_named_servers() -> None:
    """``make test`` runs on TEST_DATABASE_URL / TEST_REDIS_URL when given, starting nothing."""
    env = {
        **os.environ,
        "TEST_DATABASE_URL": "postgres://postgres@127.0.0.1:1/named",
        "TEST_REDIS_URL": "redis://127.0.0.1:1/5",
        "EMBEDDED_DIR": "/nonexistent/never-created",
    }
    script = "import os; print(os.environ['DATABASE_URL'], os.environ['REDIS_URL'])"
    result = subprocess.run(
        [sys.executable, "scripts/services.py", "test", "--", sys.executable, "-c", script],
        cwd=ROOT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "postgres://postgres@127.0.0.1:1/named",
        "redis://127.0.0.1:1/5",
    ]
    assert not Path("/nonexistent/never-created").exists()


def test_development_settings_use_the_embedded_servers_when_nothing_is_named(root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(EMBEDDED_DIR=str(root), DJANGO_SETTINGS_MODULE="config.settings.local")
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from django.db import connection; "
        "print(settings.DATABASES['default']['PORT'], settings.CELERY_TASK_ALWAYS_EAGER, "
        "connection.cursor().connection.info.server_version >= 180000)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    port, eager, embedded_server = result.stdout.split()[-3:]
    assert embedded_server == "True"
    assert eager == "True"  # no worker in this mode: tasks inline
    assert int(port) == embedded._pg_port(root / "postgres")
