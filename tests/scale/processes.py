"""Private servers for the scale-out tests, on top of the fault tests' ones
(``tests/faults/processes.py``: free ports, private PostgreSQL clusters and Redis servers, the
application under gunicorn): PgBouncer in transaction mode, a streaming standby made with
``pg_basebackup``, and a whole database copied (schema and rows) into a private cluster.

The shared servers of the test run are only ever read (a dump of this worker's test database)
or reached through the private PgBouncer, which is stopped before the test database is dropped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from tests.faults.processes import (
    CLUSTER_USER,
    PG_BIN,
    START_TIMEOUT,
    PrivatePostgres,
    _log_tail,
    free_port,
    wait_until,
)

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)


def pgbouncer_missing() -> str | None:
    return None if PGBOUNCER else "pgbouncer is not installed (apt-get install pgbouncer)"


def standby_binaries_missing() -> str | None:
    if not (PG_BIN / "pg_basebackup").exists():
        return f"pg_basebackup not found in {PG_BIN} (set FAULTS_PG_BIN)"
    return None


def _owned_tempdir(prefix: str) -> Path:
    """A temporary directory the unprivileged server user can write (servers refuse root)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0 and CLUSTER_USER is not None:
        shutil.chown(root, user=CLUSTER_USER, group=CLUSTER_USER)
    return root


# --- PgBouncer ----------------------------------------------------------------------------------


class PrivatePgBouncer:
    """``pgbouncer`` in the foreground, transaction pooling, trust authentication, on its own
    port, in front of one database of a PostgreSQL server.

    ``pool_size`` server connections at most serve however many clients: fewer than the
    application instances' connections together, so transactions of different clients really
    share server connections (what breaks named prepared statements and session state)."""

    def __init__(
        self, *, server: dict[str, Any], dbname: str, pool_size: int = 3, name: str = "app"
    ) -> None:
        self.root = _owned_tempdir("openmrcs-scale-pgbouncer-")
        self.port = free_port()
        self.name = name
        self.log = self.root / "pgbouncer.log"
        self.process: subprocess.Popen[bytes] | None = None
        host = server.get("HOST") or "127.0.0.1"
        port = server.get("PORT") or 5432
        user = server.get("USER") or "postgres"
        (self.root / "users.txt").write_text(f'"{user}" ""\n')
        (self.root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{name} = host={host} port={port} dbname={dbname} user={user}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.root / 'users.txt'}\n"
            f"admin_users = {user}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 200\n"
            f"logfile = {self.log}\n"
            f"pidfile = {self.root / 'pgbouncer.pid'}\n"
        )
        if os.geteuid() == 0 and CLUSTER_USER is not None:
            for path in self.root.iterdir():
                shutil.chown(path, user=CLUSTER_USER, group=CLUSTER_USER)

    def url(self, **query: str) -> str:
        params = "&".join(f"{k}={v}" for k, v in query.items())
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.name}" + (
            f"?{params}" if params else ""
        )

    def start(self) -> None:
        assert PGBOUNCER is not None
        command = [PGBOUNCER, str(self.root / "pgbouncer.ini")]
        if os.geteuid() == 0 and CLUSTER_USER is not None:  # pgbouncer refuses to run as root
            command = ["runuser", "-u", CLUSTER_USER, "--", *command]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited:\n{_log_tail(self.log)}")
            try:
                self.admin("SHOW VERSION")
            except psycopg.Error:
                return False
            return True

        wait_until(answers, what="private pgbouncer")

    def admin(self, command: str) -> list[dict[str, Any]]:
        """A command on PgBouncer's admin console (simple protocol, autocommit)."""
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname="pgbouncer",
            autocommit=True,
            cursor_factory=psycopg.ClientCursor,
            connect_timeout=3,
        ) as conn:
            cursor = conn.execute(command)
            names = [d.name for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def pool(self) -> dict[str, Any]:
        """This database's row of ``SHOW POOLS``."""
        return next(row for row in self.admin("SHOW POOLS") if row["database"] == self.name)

    def stop(self) -> None:
        """Closes every server connection (SIGTERM: immediate shutdown), so the database behind
        can be dropped."""
        if self.process is None:
            return
        process, self.process = self.process, None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)


# --- a primary with rows, and its streaming standby -----------------------------------------------


def copy_database(cluster: PrivatePostgres, *, source: dict[str, Any], dbname: str) -> None:
    """Creates ``dbname`` in ``cluster`` as a copy (schema and rows) of the database ``source``
    describes (a Django ``settings_dict``)."""
    with cluster.connect() as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    dump = subprocess.run(
        [
            str(PG_BIN / "pg_dump"),
            "--no-owner",
            "--no-privileges",
            "-h",
            source.get("HOST") or "127.0.0.1",
            "-p",
            str(source.get("PORT") or 5432),
            "-U",
            source.get("USER") or "postgres",
            source["NAME"],
        ],
        capture_output=True,
        env={**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""},
        timeout=START_TIMEOUT,
        check=True,
    )
    restored = subprocess.run(
        [
            str(PG_BIN / "psql"),
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            "postgres",
            dbname,
        ],
        input=dump.stdout,
        capture_output=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    if restored.returncode != 0:
        raise RuntimeError(f"restore failed: {restored.stderr.decode(errors='replace')}")


class PrivateStandby(PrivatePostgres):
    """A hot standby of ``primary``: ``pg_basebackup -R`` (streaming replication, the standby
    signal and ``primary_conninfo`` written for it), then started on its own port.

    ``settings`` are appended to its configuration before the first start (e.g. a
    ``recovery_min_apply_delay``)."""

    def __init__(self, primary: PrivatePostgres, **settings: str) -> None:
        super().__init__()
        self.primary = primary
        self.settings = settings

    def init(self) -> None:
        self._run(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary.port),
                "-U",
                "postgres",
                "-D",
                str(self.data),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ]
        )
        if self.settings:
            with (self.data / "postgresql.auto.conf").open("a") as conf:
                for name, value in self.settings.items():
                    conf.write(f"{name} = '{value}'\n")

    def set(self, **settings: str) -> None:
        """Changes reloadable settings of the running standby: its configuration file, then a
        reload."""
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = '{value}'\n")
        with self.connect() as conn:
            conn.execute("SELECT pg_reload_conf()")

    def wait_for(self, lsn: str) -> None:
        """Until everything up to the primary's ``lsn`` has been replayed."""

        def caught_up() -> bool:
            with self.connect() as conn:
                row = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]
                ).fetchone()
            return bool(row and row[0])

        wait_until(caught_up, what=f"standby replay up to {lsn}")


def current_lsn(cluster: PrivatePostgres) -> str:
    """Where the primary's WAL ends, including records not yet written out (the private
    clusters commit asynchronously)."""
    with cluster.connect() as conn:
        row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])
