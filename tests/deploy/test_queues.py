"""Queue isolation on REAL Celery workers: a fan-out that is still running never delays an exam's
auto-submit, because each queue group has workers of its own (config/celery.py routes,
docker-compose.yml and deploy/kubernetes run them).

Two ``celery worker`` subprocesses, one per queue (``-Q fanout`` and ``-Q exams``, one process
each, as the smallest deployment runs them), on this test's database and a private
``redis-server`` as broker: the production queue names are used as they are, and no other test
run can take these messages. The fan-out is made "slow" without sleeping: the test holds a lock
on the broadcast's row, so the fan-out worker is provably in the middle of its task (its backend
waits on that lock in ``pg_stat_activity``) for as long as the test wants.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.models import Role
from apps.core import queue as dispatch
from apps.exams.models import ExamSession, SessionStatus
from apps.exams.services.starting import start_exam_session
from apps.notifications import services as notifications
from apps.notifications.models import Broadcast, Notification
from config.celery import TASK_QUEUES
from tests.accounts.factories import UserFactory
from tests.exams.factories import blueprint_template, make_bank
from tests.faults.processes import REDIS_SERVER, PrivateRedis
from tests.notifications.conftest import DEAD_BROKER_URL, use_broker
from tests.notifications.test_worker import Worker, _database_url
from tests.side_connection import side_connection

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 120
FAN_OUT = "notifications.fan_out_broadcast"
AUTO_SUBMIT = "exams.auto_submit_expired"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateRedis]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_worker(tmp_path: Path, broker: PrivateRedis) -> Iterator[Callable[[str], Worker]]:
    workers: list[Worker] = []

    def start(queue: str) -> Worker:
        log_dir = tmp_path / queue
        log_dir.mkdir()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        env.pop("TEST_DATABASE_NAME", None)
        worker = Worker(queue=queue, log_dir=log_dir, env=env, pool="solo")
        workers.append(worker)
        worker.start()
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()


def wait_for(condition: Callable[[], bool], workers: list[Worker], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        for worker in workers:
            worker.assert_alive()
        time.sleep(0.05)
    logs = "\n".join(worker.logs() for worker in workers)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def waiting_on_broadcast_lock() -> bool:
    """Whether some backend is blocked on a lock while updating a broadcast. Asked on a fresh
    connection each time: a transaction keeps the first snapshot of pg_stat_activity it read."""
    with side_connection() as watch:
        row = watch.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            ("%UPDATE%notifications_broadcast%",),
        ).fetchone()
    return bool(row and row[0])


def expired_session() -> ExamSession:
    """A 30-minute mock started two hours ago (by the real clock the worker reads)."""
    first, second = make_bank(categories=2, per_category=3)
    template = blueprint_template({first: 2, second: 2}, total_questions=4, duration_minutes=30)
    candidate = UserFactory()
    with time_machine.travel(timezone.now() - timedelta(hours=2), tick=False):
        started = start_exam_session(user=candidate, template_id=template.id)
    return ExamSession.objects.get(pk=started.session.pk)


def test_the_routes_used_here_are_the_production_ones() -> None:
    assert TASK_QUEUES[FAN_OUT] == "fanout"
    assert TASK_QUEUES[AUTO_SUBMIT] == "exams"


def test_auto_submit_runs_while_the_fan_out_worker_is_busy(
    start_worker: Callable[[str], Worker], broker: PrivateRedis
) -> None:
    targets = UserFactory.create_batch(5)  # and the candidate below
    with use_broker(DEAD_BROKER_URL):  # created now, published below (kept in the outbox)
        broadcast = notifications.create_broadcast(
            created_by=None, title="Results are out", audience="role", role=Role.USER
        )
    session = expired_session()
    assert session.status == SessionStatus.IN_PROGRESS
    fanout = start_worker("fanout")
    exams = start_worker("exams")
    workers = [fanout, exams]

    side = side_connection()
    try:
        side.execute("BEGIN")
        side.execute(
            "SELECT id FROM notifications_broadcast WHERE id = %s FOR UPDATE", (broadcast.pk,)
        )
        with use_broker(broker.url):
            # By name and through the routes, as services and Beat publish them.
            dispatch.publish(FAN_OUT, [broadcast.pk], {})
            wait_for(waiting_on_broadcast_lock, workers, "the fan-out to start")

            dispatch.publish(AUTO_SUBMIT, [], {})
            # The worker logs success after the task's transaction has committed.
            wait_for(lambda: exams.succeeded(AUTO_SUBMIT) == 1, workers, "the auto-submit")
        assert ExamSession.objects.get(pk=session.pk).status == SessionStatus.EXPIRED_SUBMITTED
        # ...while the fan-out is still in the middle of its task, on its own worker.
        assert waiting_on_broadcast_lock()
        assert Broadcast.objects.get(pk=broadcast.pk).status == Broadcast.Status.PENDING
        assert fanout.succeeded(FAN_OUT) == 0
        assert f"Task {AUTO_SUBMIT}[" not in fanout.logs()
    finally:
        side.execute("ROLLBACK")
        side.close()

    wait_for(lambda: fanout.succeeded(FAN_OUT) == 1, workers, "the fan-out to finish")
    assert Broadcast.objects.get(pk=broadcast.pk).status == Broadcast.Status.DONE
    assert set(
        Notification.objects.filter(broadcast_id=broadcast.pk).values_list("user_id", flat=True)
    ) == {user.pk for user in targets} | {session.user_id}
    # Both went to their own queue: nothing fell to the default one (nobody consumes it here).
    assert broker.client().llen("default") == 0
    assert broker.client().llen("celery") == 0
