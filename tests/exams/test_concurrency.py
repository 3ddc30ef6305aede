"""Real threads against real PostgreSQL: one scoring however many submits race, and no saved
answer lost. Each thread uses (and closes) its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.audit.models import AuditEvent
from apps.exams.models import ExamAnswer, ExamSession, SessionStatus
from apps.exams.services import start_exam_session
from tests.conftest import client_for
from tests.exams.factories import blueprint_template, correct_answers, make_bank

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/api/v1/exams/sessions"


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Runs the jobs in threads released at the same instant; returns results in job order and
    re-raises the first error."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]
    return results


def test_twenty_concurrent_submits_score_once_and_agree(user, learning_record):
    first, second = make_bank(categories=2, per_category=6)
    template = blueprint_template({first: 5, second: 5})
    session = start_exam_session(user=user, template_id=template.id).session
    keys = correct_answers(session)
    setup = client_for(user)
    setup.post(
        f"{SESSIONS}/{session.id}/attempts",
        {
            "attempts": [
                {"question_id": q, "selected_option_ids": keys[q]} for q in session.question_ids[:7]
            ]
        },
        format="json",
    )
    clients = [client_for(user) for _ in range(20)]

    def submit(client: Any) -> Callable[[], Any]:
        def job() -> tuple[int, Any]:
            response = client.post(f"{SESSIONS}/{session.id}/submit")
            return response.status_code, response.json()

        return job

    responses = run_together([submit(c) for c in clients])
    assert {status for status, _ in responses} == {200}
    bodies = [body for _, body in responses]
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["correct"] == 7
    assert bodies[0]["score_percent"] == 70
    assert len(learning_record.for_session(session.id)) == 1
    assert len(learning_record.for_session(session.id)[0]) == 7
    assert AuditEvent.objects.filter(action="exam.submit", target_id=str(session.id)).count() == 1
    assert ExamSession.objects.get(id=session.id).status == SessionStatus.SUBMITTED


def test_concurrent_saves_of_different_answers_lose_nothing(user):
    (category,) = make_bank(categories=1, per_category=20)
    template = blueprint_template({category: 20})
    session = start_exam_session(user=user, template_id=template.id).session
    clients = [client_for(user) for _ in range(20)]
    choice = {q: session.option_order[str(q)][i % 5] for i, q in enumerate(session.question_ids)}

    def save(client: Any, question_id: int) -> Callable[[], int]:
        def job() -> int:
            return client.post(
                f"{SESSIONS}/{session.id}/attempts",
                {"question_id": question_id, "selected_option_ids": [choice[question_id]]},
                format="json",
            ).status_code

        return job

    statuses = run_together(
        [save(c, q) for c, q in zip(clients, session.question_ids, strict=True)]
    )
    assert statuses == [200] * 20
    saved = dict(
        ExamAnswer.objects.filter(session=session).values_list("question_id", "selected_option_ids")
    )
    assert saved == {q: [o] for q, o in choice.items()}


def test_saves_racing_a_submit_either_count_or_are_refused(user, learning_record):
    (category,) = make_bank(categories=1, per_category=12)
    template = blueprint_template({category: 12})
    session = start_exam_session(user=user, template_id=template.id).session
    keys = correct_answers(session)
    clients = [client_for(user) for _ in range(13)]

    def save(client: Any, question_id: int) -> Callable[[], int]:
        def job() -> int:
            return client.post(
                f"{SESSIONS}/{session.id}/attempts",
                {"question_id": question_id, "selected_option_ids": keys[question_id]},
                format="json",
            ).status_code

        return job

    def submit() -> int:
        return clients[-1].post(f"{SESSIONS}/{session.id}/submit").status_code

    jobs = [save(c, q) for c, q in zip(clients[:-1], session.question_ids, strict=True)]
    statuses = run_together([*jobs, submit])
    assert statuses[-1] == 200
    accepted = sum(1 for s in statuses[:-1] if s == 200)
    assert all(s in (200, 409) for s in statuses[:-1])
    scored = ExamSession.objects.get(id=session.id)
    # Every accepted save counted; every refused one did not.
    assert scored.correct == scored.answered == accepted
    assert ExamAnswer.objects.filter(session=session).count() == accepted
    assert sum(len(c) for c in learning_record.for_session(session.id)) == accepted


def test_concurrent_starts_make_one_session(user, template):
    clients = [client_for(user) for _ in range(10)]

    def start(client: Any) -> Callable[[], tuple[int, int]]:
        def job() -> tuple[int, int]:
            response = client.post(SESSIONS, {"template_id": template.id}, format="json")
            return response.status_code, response.json()["id"]

        return job

    results = run_together([start(c) for c in clients])
    assert sorted(status for status, _ in results).count(201) == 1
    assert {status for status, _ in results} <= {200, 201}
    assert len({session_id for _, session_id in results}) == 1
    assert ExamSession.objects.filter(user=user).count() == 1
