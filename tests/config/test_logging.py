"""Every log line once, as JSON (config/settings LOGGING): under the development settings of
`make run`, where Django's own default handlers used to print each of its records a second time
in plain text, and under the real development server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

ROOT_DIR = Path(__file__).resolve().parent.parent.parent

# Records the development server and Django emit under `make run`, and one of ours.
EMIT = r"""
import logging
import django

django.setup()
logging.getLogger("django.utils.autoreload").info("Watching for file changes with StatReloader")
logging.getLogger("django.server").info(
    '"%s" %s %s', "GET /api/v1/health HTTP/1.1", "200", "17", extra={"status_code": 200}
)
logging.getLogger("django.server").error(
    "You're accessing the development server over HTTPS, but it only supports HTTP.",
    extra={"status_code": 500},
)
logging.getLogger("django.request").error("Internal Server Error: %s", "/api/v1/boom")
logging.getLogger("django.security.DisallowedHost").error("Invalid HTTP_HOST header: 'x'.")
logging.getLogger("apps.core.requests").info("request", extra={"status": 200})
"""


def development_env(**extra: str) -> dict[str, str]:
    """The environment of `make run` (development settings, DEBUG on) on the tests' servers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    database = settings.DATABASES["default"]
    login = quote(database["USER"], safe="")
    if database.get("PASSWORD"):
        login += ":" + quote(database["PASSWORD"], safe="")
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=(
            f"postgres://{login}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        CELERY_TASK_ALWAYS_EAGER="true",
        LOG_LEVEL="INFO",
        **extra,
    )
    return env


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_each_record_is_printed_once_as_json() -> None:
    done = subprocess.run(
        [sys.executable, "-c", EMIT],
        cwd=ROOT_DIR,
        env=development_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert done.stdout == ""  # logs never mix with a command's own output
    records = json_lines(done.stderr)  # fails on any plain-text line
    assert [(r["logger"], r["level"], r["message"]) for r in records] == [
        ("django.utils.autoreload", "INFO", "Watching for file changes with StatReloader"),
        # the server's access line is left to apps.core.requests (below): one line a request
        (
            "django.server",
            "ERROR",
            "You're accessing the development server over HTTPS, but it only supports HTTP.",
        ),
        ("django.request", "ERROR", "Internal Server Error: /api/v1/boom"),
        ("django.security.DisallowedHost", "WARNING", "Invalid HTTP_HOST header: 'x'."),
        ("apps.core.requests", "INFO", "request"),
    ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 # loopback http
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@pytest.mark.django_db
def test_the_development_server_logs_each_request_once(tmp_path: Path) -> None:
    port = free_port()
    err_path, out_path = tmp_path / "stderr", tmp_path / "stdout"
    with err_path.open("wb") as err, out_path.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
            cwd=ROOT_DIR,
            env=development_env(),
            stdout=out,
            stderr=err,
            start_new_session=True,  # runserver's autoreloader and its child: one group
        )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 60
        while get_status(f"{base}/health/live") != 200:
            assert server.poll() is None, err_path.read_text()
            assert time.monotonic() < deadline, "runserver did not answer"
            time.sleep(0.1)
        assert get_status(f"{base}/no-such-thing") == 404
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    records = json_lines(err_path.read_text())  # every line JSON: no plain copies
    watching = ("django.utils.autoreload", "Watching for file changes with StatReloader")
    assert [(r["logger"], r["message"]) for r in records].count(watching) == 1
    requests = [(r["path"], r["status"]) for r in records if r["logger"] == "apps.core.requests"]
    assert requests.count(("/api/v1/no-such-thing", 404)) == 1
    assert {r["logger"] for r in records} <= {"django.utils.autoreload", "apps.core.requests"}
