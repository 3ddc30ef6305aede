"""Redis stopped, hung and restarted under a candidate's whole journey: no 5xx, and the cache
serves again once Redis is back.

Each test runs its own redis-server (tests/faults/conftest.py) and points the Django cache at
it, so the shared Redis of the run is never touched. Latency is bounded by configuration, not
measured: while the fault lasts the cache client talks to Redis with the production's short
socket timeouts (checked below), and every call that times out is a miss, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.exams.models import ExamSession, SessionStatus
from apps.exams.services import start_exam_session
from apps.practice import services as practice
from apps.practice.models import PracticeSession
from apps.questions.grading import answer_keys
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.conftest import client_for
from tests.exams.factories import blueprint_template, make_bank
from tests.faults.conftest import FAULT_SOCKET_TIMEOUT, PrivateCache
from tests.reliability_report import record, trial

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

DASHBOARD = "/api/v1/dashboard"


@dataclass
class Journey:
    """A candidate part-way through a practice session and a mock exam."""

    user: User
    practice: PracticeSession
    exam: ExamSession
    keys: dict[int, list[int]]


def _journey(user: User) -> Journey:
    first, second = make_bank(categories=2, per_category=3)
    template = blueprint_template({first: 2, second: 2})
    exam = start_exam_session(user=user, template_id=template.id).session
    session = practice.create_practice_session(user=user, question_count=4)
    ids = list(session.question_ids) + list(exam.question_ids)
    return Journey(user=user, practice=session, exam=exam, keys=answer_keys(question_ids=ids))


def _walk(journey: Journey) -> dict[str, int]:
    """Logs in and uses the API as a candidate would; returns each step's status code."""
    anonymous = APIClient()
    statuses: dict[str, int] = {}
    login = anonymous.post(
        "/api/v1/auth/login", {"email": journey.user.email, "password": DEFAULT_PASSWORD}
    )
    statuses["login"] = login.status_code
    assert login.status_code == 200, login.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")

    statuses["me"] = client.get("/api/v1/me").status_code
    statuses["dashboard"] = client.get(DASHBOARD).status_code
    question = journey.practice.question_ids[0]
    statuses["practice answer"] = client.post(
        f"/api/v1/practice/sessions/{journey.practice.id}/attempts",
        {"question_id": question, "selected_option_ids": journey.keys[question]},
        format="json",
    ).status_code
    exam_question = journey.exam.question_ids[0]
    statuses["exam answer"] = client.post(
        f"/api/v1/exams/sessions/{journey.exam.id}/attempts",
        {"question_id": exam_question, "selected_option_ids": journey.keys[exam_question]},
        format="json",
    ).status_code
    submit = client.post(f"/api/v1/exams/sessions/{journey.exam.id}/submit")
    statuses["exam submit"] = submit.status_code
    statuses["dashboard after"] = client.get(DASHBOARD).status_code
    statuses["refresh"] = anonymous.post(
        "/api/v1/auth/refresh", {"refresh": login.json()["refresh"]}
    ).status_code

    record("requests_under_faults", len(statuses))
    record("server_errors_under_faults", sum(1 for s in statuses.values() if s >= 500))
    return statuses


EXPECTED = {
    "login": 200,
    "me": 200,
    "dashboard": 200,
    "practice answer": 201,
    "exam answer": 200,
    "exam submit": 200,
    "dashboard after": 200,
    "refresh": 200,
}


def _assert_scored(journey: Journey) -> None:
    exam = ExamSession.objects.get(id=journey.exam.id)
    assert exam.status == SessionStatus.SUBMITTED
    assert (exam.answered, exam.correct) == (1, 1)


def _assert_short_timeouts() -> None:
    """The bound on a request's wait: each Redis call gives up after FAULT_SOCKET_TIMEOUT."""
    kwargs = cache.client.get_client(write=True).connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == FAULT_SOCKET_TIMEOUT <= 0.5
    assert kwargs["socket_connect_timeout"] == FAULT_SOCKET_TIMEOUT


def _cache_works() -> bool:
    cache.set("faults:probe", "here", 30)
    return bool(cache.get("faults:probe") == "here")


def test_redis_stopped_mid_journey(user: User, private_cache: PrivateCache) -> None:
    journey = _journey(user)
    redis = private_cache.server
    assert _cache_works()
    assert redis.client().exists(cache.make_key("faults:probe"))  # really the private one

    with trial("faults"):
        private_cache.under_fault()
        _assert_short_timeouts()
        redis.stop()
        assert not _cache_works()
        assert _walk(journey) == EXPECTED
        _assert_scored(journey)


def test_redis_hung_mid_journey(user: User, private_cache: PrivateCache) -> None:
    journey = _journey(user)
    redis = private_cache.server
    assert _cache_works()

    with trial("faults"):
        private_cache.under_fault()
        _assert_short_timeouts()
        redis.hang()
        try:
            assert not _cache_works()  # connections are accepted, nothing is answered
            assert _walk(journey) == EXPECTED
        finally:
            redis.resume()
        _assert_scored(journey)
        private_cache.healthy()
        assert _cache_works()


def test_redis_restarted_serves_from_cache_again(
    user: User, private_cache: PrivateCache, django_assert_num_queries: Any
) -> None:
    journey = _journey(user)
    redis = private_cache.server
    with trial("faults"):
        private_cache.under_fault()
        redis.stop()
        assert _walk(journey) == EXPECTED
        redis.start()
        private_cache.healthy()
        assert _cache_works()

        client = APIClient()
        login = client.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
        )
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
        computed = client.get(DASHBOARD)
        assert computed.status_code == 200
        assert computed.json()["recent_activity"]["last_exam"] is not None
        stored = redis.client().keys("*dashboard*")
        assert stored, "the dashboard was not written to the restarted Redis"
        # the token's session and the learner's version: the body is a cache hit
        with django_assert_num_queries(2):
            cached = client.get(DASHBOARD)
        assert cached.status_code == 200
        assert cached.content == computed.content


def test_an_answer_recorded_while_redis_hung_shows_once_it_answers(
    user: User, private_cache: PrivateCache, django_capture_on_commit_callbacks: Any
) -> None:
    journey = _journey(user)
    client = client_for(user)
    assert client.get(DASHBOARD).json()["performance"]["correct"] == 0  # cached
    question = journey.practice.question_ids[0]

    private_cache.under_fault()
    private_cache.server.hang()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            answered = client.post(
                f"/api/v1/practice/sessions/{journey.practice.id}/attempts",
                {"question_id": question, "selected_option_ids": journey.keys[question]},
                format="json",
            )
        assert answered.status_code == 201, answered.content
    finally:
        private_cache.server.resume()
    private_cache.healthy()

    assert client.get(DASHBOARD).json()["performance"]["correct"] == 1
