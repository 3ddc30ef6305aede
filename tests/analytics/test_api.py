from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.analytics.models import DailyActivity, HeartbeatLog
from apps.taxonomy.models import Category
from tests.analytics.helpers import answer, publish, set_timezone
from tests.conftest import client_for
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

BASE = "/api/v1/analytics"
NOW = datetime(2026, 5, 6, 12, 0, tzinfo=UTC)  # a Wednesday
ENDPOINTS = ["overview", "study-time", "categories", "heatmap", "trends"]


@pytest.fixture
def at_now(user: User) -> Iterator[APIClient]:
    """The clock frozen at NOW, and the user's client logged in at that moment."""
    with time_machine.travel(NOW, tick=False):
        yield client_for(user)


@pytest.fixture
def history(user: User, other_user: User, categories: list[Category]) -> None:
    """Many days of answers for ``user``; a little for ``other_user`` (never in user's data)."""
    for day in range(60):
        at = NOW - timedelta(days=day, hours=1)
        publish(
            *(
                answer(user, make_question(categories[i % 3]), correct=i != 0, at=at, seconds=60)
                for i in range(3)
            )
        )
    publish(answer(other_user, make_question(categories[0]), correct=False, at=NOW, seconds=999))


@pytest.mark.parametrize("name", ENDPOINTS)
def test_authentication_is_required(api_client: APIClient, name: str) -> None:
    response = api_client.get(f"{BASE}/{name}")
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}


def test_heartbeat_requires_authentication(api_client: APIClient) -> None:
    assert api_client.post(f"{BASE}/heartbeat", {"seconds": 10}).status_code == 401


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_brand_new_learner_gets_zeros(user_client: APIClient, name: str) -> None:
    response = user_client.get(f"{BASE}/{name}/")  # the trailing slash works too
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "max_queries"),
    [("overview", 3), ("study-time", 2), ("categories", 3), ("heatmap", 2), ("trends", 2)],
)
def test_query_counts_do_not_grow_with_history(
    user_client: APIClient,
    history: None,
    name: str,
    max_queries: int,
    django_assert_max_num_queries: Any,
) -> None:
    with django_assert_max_num_queries(max_queries):
        assert user_client.get(f"{BASE}/{name}").status_code == 200


def test_overview(history: None, at_now: APIClient) -> None:
    user_client = at_now
    body = user_client.get(f"{BASE}/overview").json()
    assert body == {
        "answered": 180,
        "correct": 120,
        "incorrect": 60,
        "avg_score_percent": 67,
        "study_time_minutes": 180.0,
        "study_time_hours": 3.0,
        "answer_time_minutes": 180.0,
        "reading_time_minutes": 0.0,
        "active_days": 60,
        "categories_started": 3,
    }


def test_study_time(history: None, at_now: APIClient) -> None:
    user_client = at_now
    week = user_client.get(f"{BASE}/study-time").json()
    assert [d["date"] for d in week] == [f"2026-05-{d:02d}" for d in range(4, 11)]
    assert [d["minutes"] for d in week] == [3.0, 3.0, 3.0, 0, 0, 0, 0]
    month = user_client.get(f"{BASE}/study-time", {"range": "month"}).json()
    assert len(month) == 31
    assert month[0] == {"date": "2026-05-01", "minutes": 3.0}


@pytest.mark.parametrize("bad", ["year", "WEEK", "week;drop", "0"])
def test_study_time_rejects_unknown_ranges(user_client: APIClient, bad: str) -> None:
    response = user_client.get(f"{BASE}/study-time", {"range": bad})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "range" in body["fields"]


def test_categories(user_client: APIClient, history: None, categories: list[Category]) -> None:
    Category.objects.create(name="Inactive", slug="inactive", is_active=False)
    rows = user_client.get(f"{BASE}/categories").json()
    assert [r["category_slug"] for r in rows] == ["topic-0", "topic-1", "topic-2"]
    first = rows[0]
    assert first["category"] == "Topic 0"
    assert (first["answered"], first["correct"], first["score_percent"]) == (60, 0, 0)
    assert rows[1]["score_percent"] == 100
    assert first["last_practiced_at"].startswith("2026-05-06T11:00:00")


def test_categories_for_a_new_learner(user_client: APIClient, categories: list[Category]) -> None:
    rows = user_client.get(f"{BASE}/categories").json()
    assert rows[0] == {
        "category": "Topic 0",
        "category_slug": "topic-0",
        "answered": 0,
        "correct": 0,
        "incorrect": 0,
        "score_percent": 0,
        "last_practiced_at": None,
    }


def test_heatmap(history: None, at_now: APIClient) -> None:
    user_client = at_now
    year = user_client.get(f"{BASE}/heatmap").json()
    assert len(year) == 365
    assert year[-1] == {"date": "2026-05-06", "count": 3}
    assert sum(d["count"] for d in year) == 180
    week = user_client.get(f"{BASE}/heatmap", {"days": 7}).json()
    assert [d["count"] for d in week] == [3] * 7


@pytest.mark.parametrize("bad", ["0", "-3", "367", "abc", "1.5"])
def test_heatmap_rejects_bad_days(user_client: APIClient, bad: str) -> None:
    response = user_client.get(f"{BASE}/heatmap", {"days": bad})
    assert response.status_code == 400
    assert "days" in response.json()["fields"]


def test_trends(history: None, at_now: APIClient) -> None:
    user_client = at_now
    weeks = user_client.get(f"{BASE}/trends", {"weeks": 12}).json()
    assert len(weeks) == 12
    assert weeks[-1] == {
        "week_start": "2026-05-04",
        "answered": 9,
        "correct": 6,
        "score_percent": 67,
    }
    assert weeks[0]["week_start"] == "2026-02-16"
    assert weeks[0]["score_percent"] is None  # before the history began


@pytest.mark.parametrize("bad", ["0", "105", "x"])
def test_trends_rejects_bad_weeks(user_client: APIClient, bad: str) -> None:
    assert user_client.get(f"{BASE}/trends", {"weeks": bad}).status_code == 400


def test_analytics_are_the_callers_own(
    other_client: APIClient, history: None, other_user: User
) -> None:
    body = other_client.get(f"{BASE}/overview").json()
    assert (body["answered"], body["correct"]) == (1, 0)


def test_timezone_decides_the_days(
    user: User, categories: list[Category], at_now: APIClient
) -> None:
    set_timezone(user, "Asia/Tokyo")
    # 16:00 UTC on the 5th is 01:00 on the 6th in Tokyo; now (12:00 UTC) is 21:00 on the 6th.
    publish(answer(user, make_question(categories[0]), at=datetime(2026, 5, 5, 16, 0, tzinfo=UTC)))
    days = at_now.get(f"{BASE}/heatmap", {"days": 2}).json()
    assert days == [{"date": "2026-05-05", "count": 0}, {"date": "2026-05-06", "count": 1}]


def test_heartbeat(user_client: APIClient, user: User) -> None:
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        first = user_client.post(f"{BASE}/heartbeat", {"seconds": 60})
        clock.shift(timedelta(seconds=25))
        second = user_client.post(f"{BASE}/heartbeat", {"seconds": 60})
    assert first.status_code == 200
    assert first.json() == {"credited_seconds": 60}
    assert second.json() == {"credited_seconds": 25}
    assert DailyActivity.objects.get(user=user).reading_sec == 85


@pytest.mark.parametrize(
    "payload", [{}, {"seconds": 0}, {"seconds": -5}, {"seconds": 61}, {"seconds": "x"}]
)
def test_heartbeat_rejects_bad_input(user_client: APIClient, user: User, payload: Any) -> None:
    response = user_client.post(f"{BASE}/heartbeat", payload, format="json")
    assert response.status_code == 400
    assert "seconds" in response.json()["fields"]
    assert not HeartbeatLog.objects.exists()
    assert not DailyActivity.objects.exists()


def test_heartbeats_are_throttled(user_client: APIClient) -> None:
    statuses = [
        user_client.post(f"{BASE}/heartbeat", {"seconds": 1}).status_code for _ in range(31)
    ]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


def test_category_list_carries_the_callers_progress(
    user_client: APIClient, user: User, other_user: User, categories: list[Category]
) -> None:
    publish(
        answer(user, make_question(categories[1]), correct=True),
        answer(user, make_question(categories[1]), correct=False),
        answer(other_user, make_question(categories[0]), correct=True),
    )
    rows = {r["slug"]: r for r in user_client.get("/api/v1/categories").json()}
    assert rows["topic-1"]["progress"] == {"answered": 2, "correct": 1, "score_percent": 50}
    assert rows["topic-0"]["progress"] == {"answered": 0, "correct": 0, "score_percent": 0}
