"""Streaks: unbroken runs of study days in the candidate's own calendar.

A **study day** is a day of the candidate's calendar (their profile timezone, as the learning
record files each answer) on which they answered at least one question, in practice or a mock.
The streak counts days, never answers: ten answers keep it as well as two hundred, and nothing
about speed enters it. The **current** streak runs back from today, or from yesterday while
today has no study yet (the streak is not broken before the day is over). The **longest** is
the longest run ever, the current one included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q

from apps.analytics.models import DailyActivity
from apps.core import sql
from apps.study import statements

STUDY_DAY = Q(answered__gt=0)
"""What makes a day of DailyActivity a study day (also written in statements.CURRENT_STREAK)."""


def current_streak_days(*, user_id: int, today: date) -> int:
    """The current streak ending today (or yesterday, while today has no study): one query of
    about 2 log2(streak) index range scans (statements.CURRENT_STREAK)."""
    row = sql.fetch_one(
        statements.CURRENT_STREAK,
        {
            "user_id": user_id,
            "today": today,
            "yesterday": today - timedelta(days=1),
            "max_days": statements.MAX_STREAK_DAYS,
        },
        into=statements.CurrentStreakRow,
    )
    assert row is not None  # nosec B101 # a SELECT of scalar subqueries gives one row
    return row.days_before_today + int(row.studied_today)


def study_days(*, user_id: int) -> list[date]:
    """Every study day of the user, oldest first."""
    return list(
        DailyActivity.objects.filter(STUDY_DAY, user_id=user_id)
        .order_by("date")
        .values_list("date", flat=True)
    )


def streak_runs(days: Iterable[date], today: date) -> tuple[int, int]:
    """``(current, longest)`` of these study days (any order) as of ``today``."""
    ordered = sorted(set(days))
    longest = run = 0
    previous: date | None = None
    for day in ordered:
        if day > today:
            break
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = run if previous is not None and (today - previous).days <= 1 else 0
    return current, longest


@dataclass(frozen=True)
class Streak:
    current_days: int
    longest_days: int


def streak_of(*, user_id: int, today: date) -> Streak:
    """The user's current and longest streaks (one query: their study days)."""
    current, longest = streak_runs(study_days(user_id=user_id), today)
    return Streak(current_days=current, longest_days=longest)
