"""The study engine's written-out statement, run beside the rule it stands for."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from apps.accounts.models import User
from apps.analytics.models import DailyActivity
from apps.study import selectors, statements
from apps.study.selectors.streaks import streak_runs

pytestmark = pytest.mark.django_db

D = date(2026, 12, 4)


def days(*offsets: int) -> list[date]:
    return [D - timedelta(days=o) for o in offsets]


@pytest.mark.parametrize("offsets", [(), (0,), (1,), (2,), (0, 1, 2, 4, 5), (1, 2, 3), (0, 3)])
def test_the_current_streak_statement_is_the_rule_read_with_the_orm(
    user: User, offsets: tuple[int, ...]
) -> None:
    DailyActivity.objects.bulk_create(
        DailyActivity(user=user, date=day, answered=3) for day in days(*offsets)
    )
    # A day with reading time only is not a study day.
    DailyActivity.objects.get_or_create(
        user=user, date=D - timedelta(days=10), defaults={"reading_sec": 60}
    )
    expected, _ = streak_runs(selectors.study_days(user_id=user.pk), D)
    assert selectors.current_streak_days(user_id=user.pk, today=D) == expected


@pytest.mark.parametrize("length", [1, 2, 3, 4, 7, 8, 9, 31, 32, 33, 255, 256, 257, 300, 700])
@pytest.mark.parametrize("today", [True, False])
def test_long_streaks_are_counted_exactly_whatever_their_length(
    user: User, length: int, today: bool
) -> None:
    """The statement gallops over windows of 1, 2, 4, ... days then halves them: lengths either
    side of each power of two, a gap, then an older run that must not be counted."""
    start = 0 if today else 1
    streak = list(range(start, start + length))
    older = list(range(start + length + 1, start + length + 40))  # one day's gap, then a run
    DailyActivity.objects.bulk_create(
        DailyActivity(user=user, date=day, answered=1) for day in days(*streak, *older)
    )
    expected, _ = streak_runs(selectors.study_days(user_id=user.pk), D)
    assert expected == length
    assert selectors.current_streak_days(user_id=user.pk, today=D) == length


@pytest.mark.parametrize("seed", range(12))
def test_random_histories_give_the_rule_read_with_the_orm(user: User, seed: int) -> None:
    """Random diaries: dense runs of random lengths with random gaps, some days with reading
    time only (not study days)."""
    rng = random.Random(seed)
    offsets: list[int] = []
    day = rng.choice([0, 1, 2])
    while day < 600:
        run = rng.choice([1, 2, 5, 15, 40, 130, 300])
        offsets.extend(range(day, day + run))
        day += run + rng.choice([1, 1, 2, 7])
    DailyActivity.objects.bulk_create(
        DailyActivity(user=user, date=d, answered=0 if rng.random() < 0.02 else 2)
        for d in days(*offsets)
    )
    expected, _ = streak_runs(selectors.study_days(user_id=user.pk), D)
    assert selectors.current_streak_days(user_id=user.pk, today=D) == expected


def test_a_streak_is_followed_back_only_as_far_as_the_cap(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statements, "MAX_STREAK_DAYS", 20)
    DailyActivity.objects.bulk_create(
        DailyActivity(user=user, date=day, answered=1) for day in days(*range(0, 50))
    )
    # Twenty days before today at most, and today.
    assert selectors.current_streak_days(user_id=user.pk, today=D) == 21
