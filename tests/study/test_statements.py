"""The study engine's written-out statement, run beside the rule it stands for."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.accounts.models import User
from apps.analytics.models import DailyActivity
from apps.study import selectors
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
