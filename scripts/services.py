"""The servers behind ``make run`` and ``make test``: external when named, embedded otherwise.

    python scripts/services.py run HOST:PORT     # make run
    python scripts/services.py test -- COMMAND   # make test (runs COMMAND with the servers)

``run`` uses ``DATABASE_URL`` / ``REDIS_URL`` when set and otherwise starts the embedded
PostgreSQL and Redis (``config/embedded.py``); it then migrates, seeds and serves, and when the
server stops (Ctrl-C, SIGTERM) it stops the embedded servers **it** started, leaving alone any
that were already running.

``test`` picks, for each server: ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` when set; else the
machine's own server when one answers on 127.0.0.1:5432 / 6379; else the embedded one. It runs
COMMAND with ``DATABASE_URL`` / ``REDIS_URL`` set to what it picked, says which, and stops what it
started afterwards. A machine with nothing but Python passes ``make test`` this way.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess  # nosec B404 # runs this project's own commands
import sys
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import embedded  # noqa: E402

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/openmrcs"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


class Started:
    """The embedded servers this process started, stopped on :meth:`stop` (once), after the
    child command (the development server, the test run) if it is still running."""

    def __init__(self) -> None:
        self.postgres = False
        self.redis = False
        self.child: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        child, self.child = self.child, None
        if child is not None and child.poll() is None:
            # The child leads a process group of its own (runserver's autoreloader and the
            # serving process it restarts): end the whole group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
        if self.redis:
            embedded.stop_redis()
            print("services: stopped the embedded Redis", file=sys.stderr)
            self.redis = False
        if self.postgres:
            embedded.stop_postgres()
            print("services: stopped the embedded PostgreSQL", file=sys.stderr)
            self.postgres = False


def _postgres_answers(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url.replace("/openmrcs", "/postgres"), connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _pick(started: Started, *, for_tests: bool) -> dict[str, str]:
    env: dict[str, str] = {}
    named_db = os.environ.get("TEST_DATABASE_URL" if for_tests else "DATABASE_URL")
    named_redis = os.environ.get("TEST_REDIS_URL" if for_tests else "REDIS_URL")
    if named_db:
        env["DATABASE_URL"] = named_db
    elif for_tests and _postgres_answers(LOCAL_POSTGRES):
        env["DATABASE_URL"] = LOCAL_POSTGRES
    else:
        server = embedded.start_postgres()
        started.postgres = server.started
        env["DATABASE_URL"] = server.url
    if named_redis:
        env["REDIS_URL"] = named_redis
    elif for_tests and _redis_answers(LOCAL_REDIS):
        env["REDIS_URL"] = LOCAL_REDIS
    else:
        server = embedded.start_redis()
        started.redis = server.started
        env["REDIS_URL"] = server.url
        if not for_tests:
            env.setdefault(
                "CELERY_TASK_ALWAYS_EAGER", os.environ.get("CELERY_TASK_ALWAYS_EAGER", "true")
            )
    return env


def _stop_on_signals() -> None:
    """SIGTERM / SIGHUP end the command like Ctrl-C: the exception unwinds to the ``finally``
    that stops the child and the servers (stopping from inside the handler would wait on the
    child while the interrupted ``wait`` still holds its lock)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def run(address: str) -> int:
    started = Started()
    _stop_on_signals()
    try:
        env = {**os.environ, **_pick(started, for_tests=False)}
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        print(
            f"services: database {env['DATABASE_URL']}, redis {env['REDIS_URL']}", file=sys.stderr
        )
        python = sys.executable
        for step in (["migrate", "--noinput"], ["seed"]):
            subprocess.run([python, "manage.py", *step], cwd=ROOT, env=env, check=True)  # nosec B603
        server = subprocess.Popen(  # nosec B603
            [python, "manage.py", "runserver", address], cwd=ROOT, env=env, start_new_session=True
        )
        started.child = server
        try:
            return server.wait()
        except KeyboardInterrupt:  # Ctrl-C reached this process only: end the server's group
            return 130
    except subprocess.CalledProcessError as exc:
        return exc.returncode
    finally:
        started.stop()


def test(command: list[str]) -> int:
    started = Started()
    _stop_on_signals()
    try:
        env = {**os.environ, **_pick(started, for_tests=True)}
        env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
        print(f"services: tests on {env['DATABASE_URL']} and {env['REDIS_URL']}", file=sys.stderr)
        started.child = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # nosec B603
        try:
            return started.child.wait()
        except KeyboardInterrupt:
            return 130
    finally:
        started.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("address", nargs="?", default="127.0.0.1:8000")
    test_parser = sub.add_parser("test")
    test_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.action == "run":
        return run(args.address)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("test needs a command after --")
    return test(command)


if __name__ == "__main__":
    sys.exit(main())
