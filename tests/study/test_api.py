"""GET /study/today and GET /analytics/memory through real authentication."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.analytics.models import DailyActivity
from apps.practice.models import PracticeMode
from apps.practice.services import create_practice_session
from apps.questions.selectors import published_question_count
from tests.conftest import client_for
from tests.practice.conftest import Bank, answer
from tests.study.conftest import BEFORE_AUCKLAND_MIDNIGHT, candidate

pytestmark = pytest.mark.django_db

TODAY = "/api/v1/study/today"
MEMORY = "/api/v1/analytics/memory"


def study(user: User, count: int) -> None:
    session = create_practice_session(user=user, question_count=count, mode=PracticeMode.TODAY)
    for i, qid in enumerate(session.question_ids):
        answer(user, session, qid, right=i % 2 == 0)


def get(user: User, path: str) -> Any:
    response = client_for(user).get(path)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_new_candidate_gets_a_valid_day_without_a_plan(bank: Bank) -> None:
    user = candidate(timezone="Pacific/Auckland")
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        body = get(user, TODAY)
    assert body == {
        "date": "2026-12-04",
        "reviews": {"due": 0, "done_today": 0, "limit": 100, "remaining": 0},
        "new": {"available": 10, "done_today": 0, "limit": 20, "remaining": 10},
        "next_due_at": None,
        "plan": None,
        "streak": {
            "current_days": 0,
            "longest_days": 0,
            "goal_done_today": False,
            "goal_target": 10,
            "goal_done": 0,
        },
    }


def test_the_day_after_some_study_with_a_plan(bank: Bank) -> None:
    user = candidate(exam_sitting=date(2027, 1, 12), daily_new_limit=4)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(user, 4)
        body = get(user, TODAY)
    assert body["date"] == "2026-12-04"
    assert body["new"] == {"available": 6, "done_today": 4, "limit": 4, "remaining": 0}
    # Two wrong answers come back after the 10-minute relearning step.
    assert body["reviews"] == {"due": 0, "done_today": 0, "limit": 100, "remaining": 0}
    assert body["next_due_at"] == "2026-12-04T10:40:00Z"
    plan = body["plan"]
    assert plan["exam_sitting"] == "2027-01-12"
    assert plan["days_left"] == 39
    assert plan["unseen_remaining"] == 6
    assert plan["daily_new_target"] == 1
    assert plan["on_track"] is True
    assert {c["category_slug"] for c in plan["by_category"]} == {"anatomy-embryology", "physiology"}
    assert body["streak"] == {
        "current_days": 1,
        "longest_days": 1,
        "goal_done_today": True,
        "goal_target": 4,
        "goal_done": 4,
    }


def test_study_today_costs_the_same_for_a_long_history(
    bank: Bank, django_assert_max_num_queries: Any
) -> None:
    short, long = (
        candidate(exam_sitting=date(2027, 1, 12)),
        candidate(exam_sitting=date(2027, 1, 12)),
    )
    DailyActivity.objects.bulk_create(
        DailyActivity(user=long, date=date(2026, 12, 3) - timedelta(days=d), answered=5)
        for d in range(300)
    )
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(short, 2)
        study(long, 2)

        def cost(user: User) -> int:
            client = client_for(user)
            published_question_count()  # shared by everyone, read once a minute
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(TODAY).status_code == 200
            return len(ctx.captured_queries)

        assert cost(short) == cost(long)
        # Authentication; today's counts (5); the study days; the plan's unseen per category,
        # its forecast and the Part A blueprint (4).
        with django_assert_max_num_queries(18):
            assert client_for(long).get(TODAY).json()["streak"]["current_days"] == 301


def test_memory_through_the_api(bank: Bank) -> None:
    user = candidate()
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(user, 3)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT + timedelta(days=3), tick=False):
        body = get(user, MEMORY)
    assert sum(row["cards"] for row in body) == 3
    for row in body:
        assert set(row) == {"category_slug", "category", "cards", "mean_retrievability", "due_now"}
        assert 0 < row["mean_retrievability"] < 1
        assert row["due_now"] == row["cards"]


def test_memory_shows_only_the_callers_cards(bank: Bank) -> None:
    owner, other = candidate(), candidate()
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(owner, 3)
        assert get(other, MEMORY) == []
        assert get(other, TODAY)["new"]["done_today"] == 0


def test_memory_costs_a_fixed_number_of_queries(bank: Bank) -> None:
    few, many = candidate(), candidate()
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(few, 1)
        study(many, 10)

        def cost(user: User) -> int:
            client = client_for(user)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(MEMORY).status_code == 200
            return len(ctx.captured_queries)

        assert cost(few) == cost(many)


@pytest.mark.parametrize("path", [TODAY, MEMORY])
def test_authentication_is_required(api_client: APIClient, path: str) -> None:
    response = api_client.get(path)
    assert response.status_code == 401
    assert response.json()["code"]


@pytest.mark.parametrize("path", [TODAY, MEMORY])
def test_trailing_slash_and_read_only(user_client: APIClient, path: str) -> None:
    assert user_client.get(path + "/").status_code == 200
    response = user_client.post(path, {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"]


def test_a_broken_timezone_name_is_utc_never_a_500(bank: Bank) -> None:
    user = candidate(timezone="Not/AZone")
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        assert get(user, TODAY)["date"] == "2026-12-04"


# --- Memory per card -------------------------------------------------------------------------

CARDS = "/api/v1/analytics/memory/cards"


def test_cards_most_overdue_first_with_their_recall(bank: Bank) -> None:
    user, other = candidate(), candidate()
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(user, 4)
        study(other, 2)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT + timedelta(days=1), tick=False):
        body = get(user, CARDS)
    assert body["count"] == 4
    rows = body["results"]
    assert [r["due"] for r in rows] == sorted(r["due"] for r in rows)
    # Two first answers were wrong: due again 10 minutes later, so the most overdue; a wrong
    # first answer is not a lapse (the card was never learned).
    assert [r["reps"] for r in rows] == [1, 1, 1, 1]
    assert [r["lapses"] for r in rows] == [0, 0, 0, 0]
    assert all(0 < r["retrievability"] < 1 for r in rows)
    assert rows[0]["retrievability"] < rows[-1]["retrievability"]
    # Only the caller's own cards.
    assert get(other, CARDS)["count"] == 2


def test_cards_of_one_category(bank: Bank) -> None:
    user = candidate()
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(user, 10)
        body = get(user, f"{CARDS}?category=physiology&page_size=2")
    assert body["count"] == 4
    assert [r["category_slug"] for r in body["results"]] == ["physiology", "physiology"]
    assert body["next"] is not None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=no-such-category", "category"),
        ("category=not%20a%20slug", "category"),
        ("page_size=101", "page_size"),
        ("sort=due", "sort"),
    ],
)
def test_bad_card_queries_are_400(
    user_client: APIClient, bank: Bank, query: str, field: str
) -> None:
    response = user_client.get(f"{CARDS}?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_cards_cost_the_same_for_a_long_page(bank: Bank) -> None:
    few, many = candidate(), candidate()
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(few, 1)
        study(many, 10)

        def cost(user: User) -> int:
            client = client_for(user)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(CARDS).status_code == 200
            return len(ctx.captured_queries)

        assert cost(few) == cost(many)


def test_cards_need_authentication(api_client: APIClient) -> None:
    assert api_client.get(CARDS).status_code == 401
