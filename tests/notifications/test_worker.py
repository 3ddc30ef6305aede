"""Broadcast fan-out on a REAL Celery worker (a subprocess) against the test Redis and the test
PostgreSQL database: every target gets exactly one notification when the task is delivered
twice, when it comes from the outbox, and when the worker is killed mid-way and restarted.

The worker uses this test's database (its name is passed in DATABASE_URL), a dedicated Redis
database as broker and a queue of its own, so parallel runs never share messages.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from apps.accounts.models import Role
from apps.core import queue as dispatch
from apps.core.models import OutboxMessage
from apps.notifications import services
from apps.notifications.models import Broadcast, Notification
from apps.notifications.tasks import fan_out_broadcast
from tests.accounts.factories import UserFactory
from tests.notifications.conftest import DEAD_BROKER_URL, TEST_BROKER_URL, use_broker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CELERY = Path(sys.executable).with_name("celery")
WAIT_SECONDS = 120


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] or "postgres"
    if db["PASSWORD"]:
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """One ``celery worker`` process; always stopped by the fixture, whatever happens."""

    def __init__(self, *, queue: str, log_dir: Path, env: dict[str, str], pool: str) -> None:
        self.queue = queue
        self.log_dir = log_dir
        self.env = env
        self.pool = pool
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"worker-{self.starts}.log"

    def start(self) -> None:
        assert self.process is None, "already running"
        self.starts += 1
        command = [
            str(CELERY),
            "-A",
            "config",
            "worker",
            "-P",
            self.pool,
            "-Q",
            self.queue,
            "-n",
            f"{self.queue}-{self.starts}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
        if self.pool == "threads":
            command += ["-c", "2"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no acknowledgement, nothing handed back."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """SIGTERM (warm shutdown), then SIGKILL if it does not exit in time."""
        if self.process is None:
            return
        process, self.process = self.process, None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)

    def assert_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"worker exited ({self.process.returncode}):\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            (self.log_dir / f"worker-{n}.log").read_text(errors="replace")[-4000:]
            for n in range(1, self.starts + 1)
        )

    def succeeded(self, task: str, *, start: int | None = None) -> int:
        """How many runs of ``task`` finished successfully, in one start or over all."""
        starts = [start] if start is not None else range(1, self.starts + 1)
        count = 0
        for n in starts:
            for line in (self.log_dir / f"worker-{n}.log").read_text(errors="replace").splitlines():
                if f"Task {task}[" in line and "succeeded" in line:
                    count += 1
        return count


@pytest.fixture
def start_worker(
    tmp_path: Path, queue_name: str, broker_redis: Any
) -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []

    def start(*, pool: str = "solo", **extra_env: str) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": TEST_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONPATH": str(settings.BASE_DIR),
            **extra_env,
        }
        env.pop("TEST_DATABASE_NAME", None)
        worker = Worker(queue=queue_name, log_dir=tmp_path, env=env, pool=pool)
        workers.append(worker)
        worker.start()
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()
        broker_redis.delete(queue_name)


def wait_for(condition: Callable[[], bool], worker: Worker, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        worker.assert_alive()
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}\n{worker.logs()}")


def delivered(broadcast_id: int) -> Counter[int]:
    rows = Notification.objects.filter(broadcast_id=broadcast_id).values_list("user_id", flat=True)
    return Counter(rows)


def is_done(broadcast_id: int) -> bool:
    status = Broadcast.objects.filter(pk=broadcast_id).values_list("status", flat=True).first()
    return status == Broadcast.Status.DONE


def test_broadcast_delivered_twice_reaches_every_target_once(
    start_worker: Callable[..., Worker], queue_name: str
) -> None:
    targets = UserFactory.create_batch(40)
    UserFactory(role=Role.EDITOR)
    admin = UserFactory(role=Role.ADMIN, is_staff=True)
    # Two threads: both deliveries may run at the same time.
    worker = start_worker(pool="threads", NOTIFICATIONS_FANOUT_BATCH_SIZE="7")

    with use_broker(TEST_BROKER_URL, queue=queue_name):
        broadcast = services.create_broadcast(
            created_by=admin, title="Paper 1 mock", audience="role", role=Role.USER
        )
        fan_out_broadcast.apply_async((broadcast.pk,))  # the same task, delivered again

    wait_for(lambda: worker.succeeded("notifications.fan_out_broadcast") >= 2, worker, "2 runs")

    assert delivered(broadcast.pk) == Counter({u.pk: 1 for u in targets})
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.DONE
    assert broadcast.sent_count == 40


def test_broadcast_kept_in_the_outbox_is_delivered_once_the_broker_is_back(
    start_worker: Callable[..., Worker], queue_name: str
) -> None:
    targets = UserFactory.create_batch(12)

    with use_broker(DEAD_BROKER_URL):
        broadcast = services.create_broadcast(created_by=None, title="Maintenance")
    assert OutboxMessage.objects.count() == 1
    assert not delivered(broadcast.pk)

    worker = start_worker()
    with use_broker(TEST_BROKER_URL, queue=queue_name):
        assert dispatch.drain_outbox()["published"] == 1
    wait_for(lambda: is_done(broadcast.pk), worker, "the fan-out")

    assert delivered(broadcast.pk) == Counter({u.pk: 1 for u in targets})
    assert not OutboxMessage.objects.exists()


def test_worker_killed_mid_fan_out_then_restarted_delivers_exactly_once(
    start_worker: Callable[..., Worker], queue_name: str
) -> None:
    targets = UserFactory.create_batch(60)
    slow_and_quickly_redelivered = {
        "NOTIFICATIONS_FANOUT_BATCH_SIZE": "3",
        "NOTIFICATIONS_FANOUT_BATCH_PAUSE_SECONDS": "0.25",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
    }
    worker = start_worker(**slow_and_quickly_redelivered)

    with use_broker(TEST_BROKER_URL, queue=queue_name):
        broadcast = services.create_broadcast(created_by=None, title="Results are out")

    wait_for(lambda: sum(delivered(broadcast.pk).values()) >= 9, worker, "a few batches")
    worker.kill()
    at_kill = sum(delivered(broadcast.pk).values())
    broadcast.refresh_from_db()
    assert 0 < at_kill < 60, "the worker was not killed mid fan-out"
    assert broadcast.status == Broadcast.Status.SENDING

    # The message was never acknowledged: after the visibility timeout it is delivered again.
    worker.env.update(slow_and_quickly_redelivered)
    worker.start()
    wait_for(lambda: is_done(broadcast.pk), worker, "the resumed fan-out")

    assert delivered(broadcast.pk) == Counter({u.pk: 1 for u in targets})
    broadcast.refresh_from_db()
    assert broadcast.sent_count == 60
    # The killed worker never finished it; the restarted one did (a redelivery after the
    # visibility timeout may run it again: at least once, and harmless).
    assert worker.succeeded("notifications.fan_out_broadcast", start=1) == 0, worker.logs()
    assert worker.succeeded("notifications.fan_out_broadcast", start=2) >= 1, worker.logs()
