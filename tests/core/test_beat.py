"""Beat's heartbeat (apps/core/beat.py): touched on every tick of the real scheduler, read by the
health check command of docker-compose.yml and the Kubernetes liveness probe."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery

from apps.core import beat
from config.celery import app as project_app

CELERY = Path(sys.executable).with_name("celery")
ROOT = Path(__file__).resolve().parents[2]


def check(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apps.core.beat", str(path), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_project_runs_beat_with_the_heartbeat_scheduler() -> None:
    assert project_app.conf.beat_scheduler == "apps.core.beat:HeartbeatScheduler"


def test_each_tick_touches_the_heartbeat_and_the_loop_wakes_often_enough(tmp_path: Path) -> None:
    app = Celery("heartbeat-test", broker="memory://", set_as_current=False)
    app.conf.beat_schedule = {}
    schedule = tmp_path / "celerybeat-schedule"
    scheduler = beat.HeartbeatScheduler(app=app, schedule_filename=str(schedule))
    try:
        assert not beat.heartbeat_path(str(schedule)).exists()
        sleep_for = scheduler.tick()
        assert sleep_for <= beat.HEARTBEAT_SECONDS
        assert scheduler.max_interval == beat.HEARTBEAT_SECONDS
        heartbeat = tmp_path / "celerybeat-schedule.heartbeat"
        os.utime(heartbeat, (1_000_000, 1_000_000))
        scheduler.tick()
        assert heartbeat.stat().st_mtime > 1_000_000
    finally:
        scheduler.close()


def test_alive_only_while_the_heartbeat_is_younger_than_the_limit(tmp_path: Path) -> None:
    heartbeat = tmp_path / "s.heartbeat"
    assert beat.is_alive(heartbeat, max_age=90) is False  # no file yet
    beat.touch(heartbeat)
    modified = heartbeat.stat().st_mtime
    assert beat.is_alive(heartbeat, max_age=90, now=modified + 89.9)
    assert not beat.is_alive(heartbeat, max_age=90, now=modified + 90)
    assert beat.heartbeat_age(heartbeat, now=modified + 30) == pytest.approx(30)


def test_the_check_command_exits_by_the_heartbeats_age(tmp_path: Path) -> None:
    heartbeat = tmp_path / "s.heartbeat"
    missing = check(heartbeat)
    assert missing.returncode == 1
    assert "missing" in missing.stderr
    beat.touch(heartbeat)
    assert check(heartbeat, "--max-age", "90").returncode == 0
    stale = heartbeat.stat().st_mtime - 600
    os.utime(heartbeat, (stale, stale))
    old = check(heartbeat, "--max-age", "90")
    assert old.returncode == 1
    assert "old (max 90s)" in old.stderr


@pytest.mark.slow
def test_a_real_beat_process_keeps_its_heartbeat_fresh(tmp_path: Path) -> None:
    """``celery -A config beat`` as compose and Kubernetes run it (the broker is in memory, so
    the tasks it sends go nowhere): the health check passes once it runs, and fails once it has
    stopped and the heartbeat has aged."""
    schedule = tmp_path / "celerybeat-schedule"
    heartbeat = beat.heartbeat_path(str(schedule))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp_path / "beat.log").open("wb")
    process = subprocess.Popen(
        [str(CELERY), "-A", "config", "beat", "--loglevel=INFO", f"--schedule={schedule}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not heartbeat.exists():
            assert process.poll() is None, (tmp_path / "beat.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "beat.log").read_text()
            time.sleep(0.1)
        assert check(heartbeat, "--max-age", "90").returncode == 0
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    # Stopped: the heartbeat ages past the limit (moved back rather than waited for).
    stale = heartbeat.stat().st_mtime - 120
    os.utime(heartbeat, (stale, stale))
    assert check(heartbeat, "--max-age", "90").returncode == 1
