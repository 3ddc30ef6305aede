"""The server owns the clock: frozen and moved with time-machine, never slept on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from apps.audit.models import AuditEvent
from apps.exams.models import ExamSession, SessionStatus
from apps.exams.tasks import auto_submit_expired
from tests.conftest import client_for
from tests.exams.factories import correct_answers

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/exams/sessions"


@pytest.fixture
def sitting(user, template):
    """A session started at a frozen instant, with a traveller to move the clock."""
    with time_machine.travel("2030-03-01T09:00:00+00:00", tick=False) as clock:
        paper = client_for(user).post(SESSIONS, {"template_id": template.id}).json()
        session = ExamSession.objects.get(id=paper["id"])
        yield session, clock


def answer(user, session, question_id, option_ids):
    return client_for(user).post(
        f"{SESSIONS}/{session.id}/attempts",
        {"question_id": question_id, "selected_option_ids": option_ids},
        format="json",
    )


def test_expires_at_is_set_by_the_server(sitting):
    session, _ = sitting
    assert session.expires_at.isoformat() == "2030-03-01T09:30:00+00:00"


def test_answers_are_taken_until_the_grace_runs_out(user, sitting, settings):
    settings.EXAM_GRACE_SECONDS = 5
    session, clock = sitting
    keys = correct_answers(session)
    q = session.question_ids
    clock.move_to(session.expires_at - timedelta(seconds=1))
    assert answer(user, session, q[0], keys[q[0]]).status_code == 200
    clock.move_to(session.expires_at + timedelta(seconds=5))
    assert answer(user, session, q[1], keys[q[1]]).status_code == 200
    clock.move_to(session.expires_at + timedelta(seconds=5, microseconds=1))
    late = answer(user, session, q[2], keys[q[2]])
    assert late.status_code == 409
    assert late.json()["code"] == "exam_expired"
    # and a change to an earlier answer is refused too
    assert answer(user, session, q[0], []).status_code == 409


def test_reading_an_expired_session_submits_it_with_what_was_saved(user, sitting, learning_record):
    session, clock = sitting
    keys = correct_answers(session)
    q = session.question_ids
    clock.shift(timedelta(minutes=10))
    answer(user, session, q[0], keys[q[0]])
    clock.move_to(session.expires_at + timedelta(minutes=2))
    assert answer(user, session, q[1], keys[q[1]]).status_code == 409

    body = client_for(user).get(f"{SESSIONS}/{session.id}").json()
    assert body["status"] == "expired_submitted"
    assert body["result"]["answered"] == 1
    assert body["result"]["correct"] == 1
    assert body["result"]["time_spent_sec"] == 30 * 60
    session.refresh_from_db()
    assert session.auto_submitted
    assert session.submitted_at.isoformat() == "2030-03-01T09:32:00+00:00"
    assert [a.question_id for a in learning_record.for_session(session.id)[0]] == [q[0]]
    # reading again does not score again
    client_for(user).get(f"{SESSIONS}/{session.id}")
    assert len(learning_record.for_session(session.id)) == 1
    assert AuditEvent.objects.filter(action="exam.auto_submit").count() == 1


def test_review_of_an_expired_session_is_available_without_a_submit(user, sitting):
    session, clock = sitting
    clock.move_to(session.expires_at + timedelta(minutes=1))
    review = client_for(user).get(f"{SESSIONS}/{session.id}/review")
    assert review.status_code == 200
    assert review.json()["score_percent"] == 0


def test_the_task_submits_expired_sessions_only(user, other_user, template, sitting):
    session, clock = sitting
    clock.shift(timedelta(minutes=20))
    later = client_for(other_user).post(SESSIONS, {"template_id": template.id}).json()
    clock.move_to(session.expires_at + timedelta(minutes=1))
    assert auto_submit_expired.delay().get() == 1
    session.refresh_from_db()
    assert session.status == SessionStatus.EXPIRED_SUBMITTED
    assert ExamSession.objects.get(id=later["id"]).status == SessionStatus.IN_PROGRESS
    # Running again is harmless.
    assert auto_submit_expired() == 0
    clock.move_to(session.expires_at + timedelta(minutes=30))
    assert auto_submit_expired() == 1
    assert ExamSession.objects.filter(status=SessionStatus.IN_PROGRESS).count() == 0


def test_a_late_manual_submit_scores_what_was_saved_before_the_deadline(user, sitting):
    session, clock = sitting
    keys = correct_answers(session)
    q = session.question_ids
    answer(user, session, q[0], keys[q[0]])
    clock.move_to(session.expires_at + timedelta(hours=1))
    result = client_for(user).post(f"{SESSIONS}/{session.id}/submit").json()
    assert result["status"] == "expired_submitted"
    assert result["correct"] == 1
    assert result["time_spent_sec"] == 30 * 60


def test_the_task_is_on_the_beat_schedule_every_minute():
    from celery.schedules import crontab

    from config.celery import app

    entries = [
        e for e in app.conf.beat_schedule.values() if e["task"] == "exams.auto_submit_expired"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] == crontab()
