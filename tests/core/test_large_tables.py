"""Admin lists of the unbounded histories cost a page, not the table: the count stops at a cap
(and says "at least"), newest first by id, no date hierarchy scanning every row."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.analytics.models import AnswerFact
from apps.core import large_tables
from apps.core.large_tables import CappedCountPaginator
from tests.analytics.helpers import answer, publish
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

LISTS = (
    "/admin/analytics/answerfact/",
    "/admin/practice/practiceattempt/",
    "/admin/analytics/dailyactivity/",
    "/admin/analytics/heartbeatlog/",
    "/admin/practice/practicesession/",
    "/admin/exams/examsession/",
)


@pytest.fixture
def staff(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def seven_facts(user: User, other_user: User) -> list[int]:
    questions = [make_question() for _ in range(4)]
    publish(*(answer(user, q) for q in questions))
    publish(*(answer(other_user, q, correct=False) for q in questions[:3]))
    return list(AnswerFact.objects.order_by("-id").values_list("id", flat=True))


def test_the_count_is_exact_below_the_cap_and_capped_above_it(
    seven_facts: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(large_tables, "COUNT_CAP", 5)
    above = CappedCountPaginator(AnswerFact.objects.all(), 2)
    assert (above.count, above.capped, above.num_pages) == (5, True, 3)
    below = CappedCountPaginator(AnswerFact.objects.filter(is_correct=False), 2)
    assert (below.count, below.capped) == (3, False)
    exact = CappedCountPaginator(AnswerFact.objects.filter(pk=-1), 2)
    assert (exact.count, exact.capped) == (0, False)


def test_a_list_above_the_cap_says_at_least_and_never_counts_or_scans_the_table(
    staff: Client, seven_facts: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(large_tables, "COUNT_CAP", 5)
    with CaptureQueriesContext(connection) as queries:
        response = staff.get("/admin/analytics/answerfact/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "At least 5 answer facts" in body
    statements = [q["sql"] for q in queries.captured_queries]
    counts = [s for s in statements if "COUNT(" in s.upper()]
    assert counts
    assert all("LIMIT 6" in s for s in counts), counts  # cap + 1, never the table
    assert not any("DATE_TRUNC" in s.upper() for s in statements)
    # Newest first by id: the page's rows are the latest facts.
    shown = [int(pk) for pk in response.context["cl"].result_list.values_list("id", flat=True)]
    assert shown == seven_facts[: len(shown)]


def test_a_search_by_learner_finds_only_their_rows_with_an_exact_count(
    staff: Client, seven_facts: list[int], other_user: User
) -> None:
    response = staff.get("/admin/analytics/answerfact/", {"q": other_user.email})
    assert response.status_code == 200
    cl = response.context["cl"]
    assert {row.user_id for row in cl.result_list} == {other_user.pk}
    assert cl.result_count == 3
    assert "At least" not in response.content.decode()


@pytest.mark.parametrize("path", LISTS)
def test_every_history_list_opens_for_staff_and_is_refused_to_candidates(
    staff: Client, user: User, seven_facts: list[int], path: str
) -> None:
    assert staff.get(path).status_code == 200
    candidate = Client()
    candidate.force_login(user)
    assert candidate.get(path).status_code == 302  # to the admin's login: not staff
    with CaptureQueriesContext(connection) as queries:
        assert staff.get(path, {"p": "999"}).status_code in (200, 302)  # past the end: no 500
    assert not any("DATE_TRUNC" in q["sql"].upper() for q in queries.captured_queries)


def test_the_paginator_is_what_the_history_admins_use() -> None:
    from django.contrib import admin

    from apps.analytics.models import DailyActivity, HeartbeatLog
    from apps.exams.models import ExamSession
    from apps.practice.models import PracticeAttempt, PracticeSession

    histories = (AnswerFact, PracticeAttempt, DailyActivity, HeartbeatLog)
    for model in (*histories, PracticeSession, ExamSession):
        model_admin: Any = admin.site._registry[model]
        assert model_admin.paginator is CappedCountPaginator
        assert model_admin.date_hierarchy is None
