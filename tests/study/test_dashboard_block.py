"""The dashboard's ``today`` block: the study engine's numbers, and a cached dashboard that
never shows yesterday's day or a review as not yet due once it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.accounts.models import User
from apps.practice.models import PracticeMode
from apps.practice.services import create_practice_session
from tests.conftest import client_for
from tests.practice.conftest import Bank, answer
from tests.study.conftest import candidate

pytestmark = pytest.mark.django_db

DASHBOARD = "/api/v1/dashboard"
AUCKLAND_MIDNIGHT = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)  # 00:00 on 5 December there


def study(user: User, *, right: bool = True) -> None:
    session = create_practice_session(user=user, question_count=None, mode=PracticeMode.TODAY)
    for qid in session.question_ids:
        answer(user, session, qid, right=right)


def today_block(user: User) -> dict[str, int]:
    response = client_for(user).get(DASHBOARD)
    assert response.status_code == 200, response.content
    block: dict[str, int] = response.json()["today"]
    block.pop("next_action")  # apps/recommendations (tests/recommendations/test_next_action.py)
    return block


def test_the_block_after_a_days_study(bank: Bank) -> None:
    user = candidate(daily_new_limit=3)
    with time_machine.travel(AUCKLAND_MIDNIGHT - timedelta(hours=2), tick=False):
        assert today_block(user) == {"reviews_due": 0, "new_remaining": 3, "streak_days": 0}
        study(user, right=False)
    with time_machine.travel(AUCKLAND_MIDNIGHT - timedelta(hours=1), tick=False):
        # The three wrong answers are due again after their 10-minute step.
        assert today_block(user) == {"reviews_due": 3, "new_remaining": 0, "streak_days": 1}


@pytest.mark.parametrize(("zone", "new_after"), [("Pacific/Auckland", 2), ("Europe/London", 0)])
def test_a_cached_dashboard_turns_over_at_the_learners_midnight(
    bank: Bank, zone: str, new_after: int
) -> None:
    user = candidate(timezone=zone, daily_new_limit=2)
    with time_machine.travel(AUCKLAND_MIDNIGHT - timedelta(minutes=20), tick=False):
        study(user)
    with time_machine.travel(AUCKLAND_MIDNIGHT - timedelta(seconds=10), tick=False):
        assert today_block(user)["new_remaining"] == 0  # computed and cached
    with time_machine.travel(AUCKLAND_MIDNIGHT + timedelta(seconds=10), tick=False):
        # No answer in between: in Auckland the entry is outdated by the new day, in London it
        # is still the same day.
        assert today_block(user)["new_remaining"] == new_after


def test_a_card_falling_due_outdates_the_cached_dashboard(bank: Bank) -> None:
    user = candidate(daily_new_limit=1)
    start = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        study(user, right=False)
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        assert today_block(user)["reviews_due"] == 0  # computed and cached
    with time_machine.travel(start + timedelta(minutes=10, seconds=1), tick=False):
        assert today_block(user)["reviews_due"] == 1
