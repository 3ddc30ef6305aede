"""The one web command (``sh scripts/gunicorn.sh``, the image's CMD, compose's and Kubernetes'
web command) run for real: production settings on this test's database, the health endpoints
answered as the probes ask them, the metrics directory emptied at start, and a clean exit on
SIGTERM (what a rolling update sends)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.manifests import ROOT, dockerfile_cmd
from tests.faults.processes import free_port, wait_until
from tests.notifications.test_worker import _database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def ask(port: int, path: str) -> int:
    """The status of ``path``, asked as the probes ask: an allowed Host and HTTPS forwarded."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": "localhost", "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  # nosec B310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"left by the previous run")
    return directory


@pytest.fixture
def web(tmp_path: Path, metrics_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "test-gunicorn-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": _database_url(),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TEST_DATABASE_NAME", None)
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            dockerfile_cmd(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process, port, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_the_web_command_serves_the_probes_and_stops_cleanly(
    web: tuple[subprocess.Popen[bytes], int, Path], metrics_dir: Path
) -> None:
    process, port, log_path = web

    def live() -> bool:
        assert process.poll() is None, log_path.read_text(errors="replace")
        return ask(port, "/api/v1/health/live") == 200

    wait_until(live, timeout=60, what="gunicorn")
    assert ask(port, "/api/v1/health") == 200  # readiness: the database answers
    # The script emptied the metrics directory before gunicorn started (a dead worker's
    # counters from a previous run would be added to this one's).
    assert not (metrics_dir / "counter_999999.db").exists()
    assert any(metrics_dir.iterdir())  # and this run's workers write there

    process.send_signal(signal.SIGTERM)  # the shell exec'd gunicorn: the signal reaches it
    assert process.wait(timeout=40) == 0
    assert "Handling signal: term" in log_path.read_text(errors="replace")
