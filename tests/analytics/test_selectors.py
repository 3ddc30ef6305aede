from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from apps.accounts.models import User
from apps.analytics import selectors
from apps.analytics.services import record_heartbeat
from apps.taxonomy.models import Category
from tests.analytics.helpers import answer, publish, set_timezone
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("correct", "answered", "expected"),
    [(0, 0, 0), (1, 3, 33), (2, 3, 67), (1, 2, 50), (1, 8, 13), (3, 8, 38), (5, 5, 100)],
)
def test_score_percent_rounds_half_up(correct: int, answered: int, expected: int) -> None:
    assert selectors.score_percent(correct=correct, answered=answered) == expected


def test_study_week_is_monday_to_sunday_in_the_learners_timezone(
    user: User, categories: list[Category]
) -> None:
    set_timezone(user, "Pacific/Auckland")  # UTC+13 in January
    q = make_question(categories[0])
    # Sunday 2026-01-11 23:30 in Auckland = 10:30 UTC: last week.
    publish(answer(user, q, at=datetime(2026, 1, 11, 10, 30, tzinfo=UTC), seconds=600))
    # Monday 2026-01-12 00:30 in Auckland = Sunday 11:30 UTC: this week.
    publish(answer(user, q, at=datetime(2026, 1, 11, 11, 30, tzinfo=UTC), seconds=300))
    record_heartbeat(user_id=user.pk, seconds=30, now=datetime(2026, 1, 11, 12, 0, tzinfo=UTC))

    # It is still Sunday in UTC, but Monday the 12th in Auckland.
    with time_machine.travel(datetime(2026, 1, 11, 20, 0, tzinfo=UTC), tick=False):
        series = selectors.study_time_series(user=user, period="week")
        this_week, last_week = selectors.weekly_study_seconds(user=user)
    assert [d["date"] for d in series] == [date(2026, 1, 12) + timedelta(days=i) for i in range(7)]
    assert series[0]["minutes"] == 5.5  # 300 s of answers + 30 s of reading
    assert sum(d["minutes"] for d in series) == 5.5
    assert (this_week, last_week) == (330, 600)


def test_the_same_moment_is_last_week_for_a_learner_further_west(
    user: User, categories: list[Category]
) -> None:
    set_timezone(user, "America/Los_Angeles")
    q = make_question(categories[0])
    publish(answer(user, q, at=datetime(2026, 1, 11, 11, 30, tzinfo=UTC), seconds=300))
    with time_machine.travel(datetime(2026, 1, 12, 20, 0, tzinfo=UTC), tick=False):
        assert selectors.weekly_study_seconds(user=user) == (0, 300)


def test_weekly_study_seconds_count_only_this_week_and_the_one_before(
    user: User, categories: list[Category]
) -> None:
    q = make_question(categories[0])
    # Wednesday 2026-05-06 (UTC): this week is from Monday the 4th, last week from the 27th.
    for day, seconds in [(26, 400), (27, 200), (3, 40), (4, 5), (6, 60), (11, 500)]:
        month = 4 if day > 11 else 5
        publish(answer(user, q, at=datetime(2026, month, day, 12, 0, tzinfo=UTC), seconds=seconds))
    record_heartbeat(user_id=user.pk, seconds=30, now=datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 5, 6, 12, 0, tzinfo=UTC), tick=False):
        assert selectors.weekly_study_seconds(user=user) == (5 + 60 + 30, 200 + 40)


def test_month_series_covers_the_whole_calendar_month(user: User) -> None:
    with time_machine.travel(datetime(2028, 2, 10, 9, 0, tzinfo=UTC), tick=False):
        series = selectors.study_time_series(user=user, period="month")
    assert len(series) == 29  # a leap February
    assert series[0] == {"date": date(2028, 2, 1), "minutes": 0.0}
    assert series[-1]["date"] == date(2028, 2, 29)


def test_heatmap_counts_answers_per_day_zero_filled(user: User, categories: list[Category]) -> None:
    q1, q2, q3 = (make_question(categories[0]) for _ in range(3))
    publish(
        answer(user, q1, at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC)),
        answer(user, q2, at=datetime(2026, 5, 1, 10, 0, tzinfo=UTC)),
    )
    publish(answer(user, q3, at=datetime(2026, 5, 3, 9, 0, tzinfo=UTC)))
    publish(answer(user, q3, at=datetime(2026, 4, 1, 9, 0, tzinfo=UTC)))  # outside the window
    with time_machine.travel(datetime(2026, 5, 4, 12, 0, tzinfo=UTC), tick=False):
        days = selectors.heatmap(user=user, days=5)
    assert days == [
        {"date": date(2026, 4, 30), "count": 0},
        {"date": date(2026, 5, 1), "count": 2},
        {"date": date(2026, 5, 2), "count": 0},
        {"date": date(2026, 5, 3), "count": 1},
        {"date": date(2026, 5, 4), "count": 0},
    ]


def test_weekly_trends(user: User, categories: list[Category]) -> None:
    questions = [make_question(categories[0]) for _ in range(4)]
    # Week of Monday 2026-04-20: 1 of 2; week of 2026-05-04: 2 of 2 (Sunday 10th counts).
    publish(
        answer(user, questions[0], correct=True, at=datetime(2026, 4, 20, 9, 0, tzinfo=UTC)),
        answer(user, questions[1], correct=False, at=datetime(2026, 4, 26, 22, 0, tzinfo=UTC)),
    )
    publish(
        answer(user, questions[2], correct=True, at=datetime(2026, 5, 4, 0, 30, tzinfo=UTC)),
        answer(user, questions[3], correct=True, at=datetime(2026, 5, 10, 23, 0, tzinfo=UTC)),
    )
    with time_machine.travel(datetime(2026, 5, 7, 12, 0, tzinfo=UTC), tick=False):
        weeks = selectors.weekly_trends(user=user, weeks=3)
    assert weeks == [
        {"week_start": date(2026, 4, 20), "answered": 2, "correct": 1, "score_percent": 50},
        {"week_start": date(2026, 4, 27), "answered": 0, "correct": 0, "score_percent": None},
        {"week_start": date(2026, 5, 4), "answered": 2, "correct": 2, "score_percent": 100},
    ]


def test_overview_totals(user: User, other_user: User, categories: list[Category]) -> None:
    q1, q2, q3 = (make_question(categories[i]) for i in range(3))
    publish(
        answer(user, q1, correct=True, seconds=90, at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC)),
        answer(user, q2, correct=False, seconds=30, at=datetime(2026, 5, 2, 9, 0, tzinfo=UTC)),
        answer(user, q3, correct=True, seconds=60, at=datetime(2026, 5, 2, 9, 0, tzinfo=UTC)),
    )
    publish(answer(other_user, q1, correct=False))
    record_heartbeat(user_id=user.pk, seconds=60, now=datetime(2026, 5, 3, 9, 0, tzinfo=UTC))
    assert selectors.overview(user=user) == {
        "answered": 3,
        "correct": 2,
        "incorrect": 1,
        "avg_score_percent": 67,
        "study_time_minutes": 4.0,
        "study_time_hours": 0.1,
        "answer_time_minutes": 3.0,
        "reading_time_minutes": 1.0,
        "active_days": 2,
        "categories_started": 3,
    }


def test_learner_stats_lists_active_categories_and_totals_everything(
    user: User, categories: list[Category]
) -> None:
    retired = Category.objects.create(name="Retired", slug="retired", order=99)
    at = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    publish(
        answer(user, make_question(categories[1]), correct=True, at=at),
        answer(user, make_question(retired), correct=False),
    )
    Category.objects.filter(pk=retired.pk).update(is_active=False)
    stats = selectors.learner_stats(user_id=user.pk)
    assert [c.slug for c in stats.categories] == ["topic-0", "topic-1", "topic-2"]
    assert [c.answered for c in stats.categories] == [0, 1, 0]
    assert [c.last_practiced_at for c in stats.categories] == [None, at, None]
    assert (stats.answered, stats.correct, stats.score_percent) == (2, 1, 50)


def test_category_progress_provider(
    user: User, other_user: User, categories: list[Category]
) -> None:
    publish(
        answer(user, make_question(categories[0]), correct=True),
        answer(user, make_question(categories[0]), correct=False),
        answer(other_user, make_question(categories[1]), correct=True),
    )
    ids = [c.pk for c in categories]
    assert selectors.category_progress_for(user, ids) == {
        categories[0].pk: {"answered": 2, "correct": 1, "score_percent": 50}
    }
