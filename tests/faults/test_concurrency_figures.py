"""The three races the plan promises, run with real threads (each with its own PostgreSQL
connection) and counted in the reliability report:

- 20 concurrent submits of one exam: all succeed with the same result, exactly one scoring;
- 20 concurrent saves of different answers in one exam: none lost;
- 8 concurrent refreshes of one refresh token: exactly one success.

The apps' own suites probe the same rules in more variants (tests/exams/test_concurrency.py,
tests/accounts/test_concurrency.py); these are the figures printed at the end of the run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.analytics.models import AnswerFact
from apps.audit.models import AuditEvent
from apps.exams.models import ExamAnswer, ExamSession, SessionStatus
from apps.exams.services import start_exam_session
from tests.accounts.helpers import tokens_for
from tests.conftest import client_for
from tests.exams.factories import blueprint_template, correct_answers, make_bank
from tests.reliability_report import record, trial

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/api/v1/exams/sessions"
SUBMITS = 20
SAVES = 20
REFRESHES = 8


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Runs the jobs in threads released at the same instant; results in job order. A job that
    raises fails the test."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except BaseException as exc:
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


def test_concurrent_submits_score_exactly_once(user: User) -> None:
    first, second = make_bank(categories=2, per_category=5)
    session = start_exam_session(
        user=user, template_id=blueprint_template({first: 5, second: 5}).id
    ).session
    keys = correct_answers(session)
    answered = session.question_ids[:6]
    saved = client_for(user).post(
        f"{SESSIONS}/{session.id}/attempts",
        {"attempts": [{"question_id": q, "selected_option_ids": keys[q]} for q in answered]},
        format="json",
    )
    assert saved.status_code == 200, saved.content
    clients = [client_for(user) for _ in range(SUBMITS)]

    def submit(client: APIClient) -> Callable[[], tuple[int, Any]]:
        def job() -> tuple[int, Any]:
            response = client.post(f"{SESSIONS}/{session.id}/submit")
            return response.status_code, response.json()

        return job

    with trial("concurrency"):
        results = run_together([submit(c) for c in clients])
        scorings = AuditEvent.objects.filter(
            action="exam.submit", target_id=str(session.id)
        ).count()
        record("exam_submits_raced", SUBMITS)
        record("exam_scorings", scorings)
        assert [status for status, _ in results] == [200] * SUBMITS
        assert all(body == results[0][1] for _, body in results)
        assert (results[0][1]["correct"], results[0][1]["score_percent"]) == (6, 60)
        assert scorings == 1
        # Scored once means learned once: one fact per answered question, not one per submit.
        assert AnswerFact.objects.filter(source="exam", source_id=session.id).count() == 6
        assert ExamSession.objects.get(id=session.id).status == SessionStatus.SUBMITTED


def test_concurrent_answer_saves_lose_nothing(user: User) -> None:
    (category,) = make_bank(categories=1, per_category=SAVES)
    session = start_exam_session(
        user=user, template_id=blueprint_template({category: SAVES}).id
    ).session
    choice = {q: session.option_order[str(q)][i % 5] for i, q in enumerate(session.question_ids)}
    clients = [client_for(user) for _ in range(SAVES)]

    def save(client: APIClient, question_id: int) -> Callable[[], int]:
        def job() -> int:
            return client.post(
                f"{SESSIONS}/{session.id}/attempts",
                {"question_id": question_id, "selected_option_ids": [choice[question_id]]},
                format="json",
            ).status_code

        return job

    with trial("concurrency"):
        statuses = run_together(
            [save(c, q) for c, q in zip(clients, session.question_ids, strict=True)]
        )
        stored = dict(
            ExamAnswer.objects.filter(session=session).values_list(
                "question_id", "selected_option_ids"
            )
        )
        record("answer_saves_raced", SAVES)
        record("answer_saves_kept", sum(1 for q, o in choice.items() if stored.get(q) == [o]))
        assert statuses == [200] * SAVES
        assert stored == {q: [o] for q, o in choice.items()}


def test_concurrent_refreshes_of_one_token_succeed_once(user: User) -> None:
    refresh = tokens_for(user.email)["refresh"]

    def attempt() -> int:
        return APIClient().post("/api/v1/auth/refresh", {"refresh": refresh}).status_code

    with trial("concurrency"):
        statuses = run_together([attempt] * REFRESHES)
        record("token_refreshes_raced", REFRESHES)
        record("token_refresh_successes", statuses.count(200))
        assert sorted(statuses) == [200] + [401] * (REFRESHES - 1)
