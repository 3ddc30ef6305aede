"""The study engine's rules, each with a frozen clock across a candidate's local midnight."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.practice.models import PracticeMode
from apps.practice.services import create_practice_session
from apps.study import selectors
from apps.study.selectors.streaks import streak_runs
from tests.practice.conftest import Bank, answer
from tests.study.conftest import AFTER_AUCKLAND_MIDNIGHT, BEFORE_AUCKLAND_MIDNIGHT, candidate

pytestmark = pytest.mark.django_db

D = date(2026, 12, 4)


def study(user: User, count: int = 1, *, right: bool = True) -> None:
    """Answers ``count`` of today's questions."""
    session = create_practice_session(user=user, question_count=count, mode=PracticeMode.TODAY)
    for qid in session.question_ids:
        answer(user, session, qid, right=right)


def days(*offsets: int) -> list[date]:
    return [D - timedelta(days=o) for o in offsets]


# --- Streaks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("studied", "current", "longest"),
    [
        ([], 0, 0),
        (days(0), 1, 1),
        (days(1), 1, 1),  # yesterday: not broken before today is over
        (days(2), 0, 1),
        (days(0, 1, 2, 4, 5, 6, 7), 3, 4),
        (days(1, 2, 3), 3, 3),
        (days(0, 2, 3), 1, 2),
    ],
)
def test_streak_runs(studied: list[date], current: int, longest: int) -> None:
    assert streak_runs(studied, D) == (current, longest)


@pytest.mark.parametrize(("zone", "streak"), [("Pacific/Auckland", 2), ("Europe/London", 1)])
def test_a_streak_counts_the_candidates_own_days(bank: Bank, zone: str, streak: int) -> None:
    user = candidate(timezone=zone)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(user)
    with time_machine.travel(AFTER_AUCKLAND_MIDNIGHT, tick=False):
        study(user)
        today = selectors.study_today(user=user)
    assert today.streak.current_days == streak
    assert today.streak.longest_days == streak


def test_the_goal_is_done_when_the_day_is_and_starts_again_at_local_midnight(
    bank: Bank,
) -> None:
    user = candidate(timezone="Pacific/Auckland", daily_new_limit=2)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        before = selectors.study_today(user=user).streak
        assert (before.goal_done_today, before.goal_target, before.goal_done) == (False, 2, 0)
        study(user, 2)
        done = selectors.study_today(user=user).streak
        assert (done.goal_done_today, done.goal_target, done.goal_done) == (True, 2, 2)
    with time_machine.travel(AFTER_AUCKLAND_MIDNIGHT, tick=False):
        tomorrow = selectors.study_today(user=user).streak
    assert (tomorrow.goal_done_today, tomorrow.goal_target, tomorrow.goal_done) == (False, 2, 0)


# --- The plan ----------------------------------------------------------------------------------


def test_no_plan_without_an_exam_sitting(bank: Bank) -> None:
    assert selectors.plan_for(user=candidate()) is None


@pytest.mark.parametrize(
    ("zone", "days_left", "target", "on_track"),
    [("Pacific/Auckland", 4, 3, False), ("Europe/London", 5, 2, True)],
)
def test_days_left_count_from_the_candidates_today(
    bank: Bank, zone: str, days_left: int, target: int, on_track: bool
) -> None:
    user = candidate(timezone=zone, exam_sitting=date(2026, 12, 9), daily_new_limit=2)
    with time_machine.travel(AFTER_AUCKLAND_MIDNIGHT, tick=False):
        plan = selectors.plan_for(user=user)
    assert plan is not None
    assert plan.days_left == days_left
    assert plan.unseen_remaining == len(bank.all_questions) == 10
    # Ten unseen over the days left, rounded up; on track only while that fits the limit of 2.
    assert plan.daily_new_target == target
    assert plan.on_track is on_track


def test_the_plan_per_blueprint_category_and_on_track(bank: Bank) -> None:
    user = candidate(exam_sitting=date(2026, 12, 24), daily_new_limit=20)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        study(user, 3)
        plan = selectors.plan_for(user=user)
    assert plan is not None
    assert plan.days_left == 20
    assert plan.unseen_remaining == 7
    assert plan.daily_new_target == 1
    assert plan.on_track is True
    unseen = {c.category_slug: c.unseen_remaining for c in plan.by_category}
    assert unseen == {
        "anatomy-embryology": unseen["anatomy-embryology"],
        "physiology": unseen["physiology"],
    }
    assert sum(unseen.values()) == 7
    assert [c.blueprint_questions for c in plan.by_category] == [75, 45]
    assert len(plan.review_forecast) == selectors.FORECAST_DAYS
    # Three cards answered right today fall due within the week (2 days at 0.92).
    assert sum(d.reviews for d in plan.review_forecast) == 3
    assert plan.forecast_review_load == 1


def test_on_the_day_of_the_exam_no_day_is_left(bank: Bank) -> None:
    user = candidate(timezone="Pacific/Auckland", exam_sitting=date(2026, 12, 5))
    with time_machine.travel(AFTER_AUCKLAND_MIDNIGHT, tick=False):
        plan = selectors.plan_for(user=user)
    assert plan is not None
    assert (plan.days_left, plan.daily_new_target, plan.on_track) == (0, 10, False)


def test_unseen_remaining_by_category(bank: Bank) -> None:
    user = candidate()
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        session = create_practice_session(
            user=user, question_count=2, category_slugs=["physiology"]
        )
        for qid in session.question_ids:
            answer(user, session, qid, right=False)
    assert selectors.unseen_remaining_by_category(user_id=user.pk) == {
        bank.anatomy.pk: 6,
        bank.physiology.pk: 2,
    }


# --- Memory --------------------------------------------------------------------------------------


def test_memory_fades_with_time_and_is_per_category(bank: Bank) -> None:
    user = candidate()
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        session = create_practice_session(
            user=user, question_count=3, category_slugs=["anatomy-embryology"]
        )
        for qid in session.question_ids:
            answer(user, session, qid, right=True)
        now = selectors.memory_by_category(user=user)
    in_five_days = BEFORE_AUCKLAND_MIDNIGHT + timedelta(days=5)
    later = selectors.memory_by_category(user=user, now=in_five_days)
    assert [(m.category_slug, m.cards, m.due_now) for m in now] == [("anatomy-embryology", 3, 0)]
    assert now[0].mean_retrievability == 1.0
    assert later[0].due_now == 3
    assert 0 < later[0].mean_retrievability < 0.92
    means = selectors.mean_retrievability_by_category(user=user, now=in_five_days)
    assert means.keys() == {bank.anatomy.pk}
    assert round(means[bank.anatomy.pk], 3) == later[0].mean_retrievability


def test_memory_of_a_new_candidate_is_empty(bank: Bank, django_assert_num_queries: Any) -> None:
    user = candidate()
    with django_assert_num_queries(2):  # the weights, the cards
        assert selectors.memory_by_category(user=user) == []


@pytest.mark.parametrize(
    ("zone", "by_day"), [("Pacific/Auckland", [0, 1]), ("Europe/London", [1, 0])]
)
def test_the_review_forecast_files_cards_on_the_candidates_days(
    bank: Bank, zone: str, by_day: list[int]
) -> None:
    from apps.practice.models import ReviewCard
    from tests.practice.test_today import put_due

    user = candidate(timezone=zone)
    # Due at 11:30 UTC: the same day in London, the next day in Auckland.
    put_due(user, bank.anatomy_questions[0], AFTER_AUCKLAND_MIDNIGHT)
    assert ReviewCard.objects.filter(user=user).count() == 1
    forecast = selectors.review_forecast(user=user, now=BEFORE_AUCKLAND_MIDNIGHT)
    assert [d.reviews for d in forecast[:2]] == by_day
    assert forecast[0].date == date(2026, 12, 4)


@given(st.sets(st.integers(min_value=-3, max_value=60), max_size=40))
def test_streak_runs_agree_with_counting_day_by_day(offsets: set[int]) -> None:
    studied = {D - timedelta(days=o) for o in offsets}  # negative offsets: days to come
    current, longest = streak_runs(studied, D)
    # Day by day: back from today (or yesterday when today has no study) while studied.
    start = D if D in studied else D - timedelta(days=1)
    expected_current = 0
    while start - timedelta(days=expected_current) in studied:
        expected_current += 1
    assert current == expected_current
    past = sorted(d for d in studied if d <= D)
    expected_longest = 0
    for first in past:
        length = 0
        while first + timedelta(days=length) in studied and first + timedelta(days=length) <= D:
            length += 1
        expected_longest = max(expected_longest, length)
    assert longest == expected_longest
    assert longest >= current
