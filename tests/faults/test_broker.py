"""The Celery broker down during an exam submission: the submission succeeds, its score is
stored, and no follow-up work is lost.

The broker is a private redis-server (tests/faults/conftest.py) that this test stops; tasks are
really published (``CELERY_TASK_ALWAYS_EAGER`` off). Scoring writes the learning record, the
audit event and the dashboard's inputs in the submission's own transaction, so none of it waits
on the broker; work that does go through the broker during the outage is kept in the outbox
and published once the broker is back (apps/core/queue.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from kombu import pools as kombu_pools
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.analytics.models import AnswerFact
from apps.audit.models import AuditEvent
from apps.core.models import OutboxMessage
from apps.core.queue import drain_outbox
from apps.exams.models import ExamSession, SessionStatus
from apps.exams.services import start_exam_session
from apps.notifications.services import create_broadcast
from config.celery import TASK_QUEUES
from config.celery import app as celery_app
from tests.conftest import client_for
from tests.exams.factories import blueprint_template, correct_answers, make_bank
from tests.faults.processes import PrivateRedis
from tests.reliability_report import record, trial

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


def _forget_connections(app: Celery) -> None:
    """Drops every pooled broker connection, so the next publish uses the current URL."""
    kombu_pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def broker(settings: Any, private_redis: PrivateRedis) -> Iterator[PrivateRedis]:
    """Celery publishes for real to the private Redis; everything is restored afterwards."""
    keys = ("broker_url", "task_always_eager")
    saved = {key: celery_app.conf[key] for key in keys}
    settings.CELERY_BROKER_URL = private_redis.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _forget_connections(celery_app)
    celery_app.conf.broker_url = private_redis.url
    celery_app.conf.task_always_eager = False
    try:
        yield private_redis
    finally:
        _forget_connections(celery_app)
        for key, value in saved.items():
            celery_app.conf[key] = value


def test_broker_down_during_exam_submit(
    user: User,
    admin_user: User,
    broker: PrivateRedis,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    first, second = make_bank(categories=2, per_category=3)
    template = blueprint_template({first: 2, second: 2})
    session = start_exam_session(user=user, template_id=template.id).session
    keys = correct_answers(session)
    client = client_for(user)
    saved = client.post(
        f"/api/v1/exams/sessions/{session.id}/attempts",
        {
            "attempts": [
                {"question_id": q, "selected_option_ids": keys[q]} for q in session.question_ids[:3]
            ]
        },
        format="json",
    )
    assert saved.status_code == 200, saved.content
    assert client.get("/api/v1/health").json()["checks"]["broker"]["status"] == "ok"

    with trial("faults"):  # the exam submitted while the broker is down
        broker.stop()
        health = client.get("/api/v1/health")
        assert health.status_code == 200  # degraded, not unready
        assert health.json()["checks"]["broker"]["status"] == "unavailable"

        with django_capture_on_commit_callbacks(execute=True):
            submit = client.post(f"/api/v1/exams/sessions/{session.id}/submit")
        record("requests_under_faults", 2)
        assert submit.status_code == 200, submit.content
        assert (submit.json()["correct"], submit.json()["score_percent"]) == (3, 75)

        stored = ExamSession.objects.get(id=session.id)
        assert stored.status == SessionStatus.SUBMITTED
        assert (stored.correct, stored.answered, stored.score_percent) == (3, 3, 75)
        # The follow-up work is done, not queued: the learning record, the audit trail and the
        # dashboard already show the exam.
        facts = AnswerFact.objects.filter(user=user, source="exam", source_id=session.id)
        assert facts.count() == 3
        assert AuditEvent.objects.filter(action="exam.submit", target_id=str(session.id)).exists()
        last_exam = client.get("/api/v1/dashboard").json()["recent_activity"]["last_exam"]
        assert last_exam["score_percent"] == 75
        assert not OutboxMessage.objects.exists()  # nothing needed the broker

    with trial("faults"):  # work that needs the broker, in the same outage, is not lost
        with django_capture_on_commit_callbacks(execute=True):
            registered = APIClient().post(
                "/api/v1/auth/register",
                {"email": "during-outage@example.com", "password": "a long enough passphrase"},
            )
            broadcast = create_broadcast(
                created_by=admin_user, title="Results are in", body="Your mock exam is scored."
            )
        assert registered.status_code == 201, registered.content
        new_user = User.objects.get(email="during-outage@example.com")
        kept = list(OutboxMessage.objects.order_by("id").values_list("task_name", "args"))
        # Neither job ran nor vanished: both wait in the outbox.
        assert sorted(kept) == [
            ("accounts.send_verification_email", [new_user.pk]),
            ("notifications.fan_out_broadcast", [broadcast.pk]),
        ]
        assert mailoutbox == []
        record("outbox_messages_kept", len(kept))

        broker.start()
        _forget_connections(celery_app)
        assert drain_outbox() == {"published": len(kept), "failed": 0, "remaining": 0}
        # Every kept message is now on the broker, on its task's queue, for that group's worker.
        queues = Counter(TASK_QUEUES[task_name] for task_name, _ in kept)
        assert {queue: broker.client().llen(queue) for queue in queues} == dict(queues)
