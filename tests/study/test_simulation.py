"""Thirty days of a simulated candidate, day by day with a frozen clock, answering through the
real services: the daily limits are never exceeded, every card that falls due is shown, and
the day's queue is drained whenever the limits allow."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from apps.practice.exceptions import NothingDueToday
from apps.practice.models import PracticeMode, ReviewCard
from apps.practice.selectors import today_counts
from apps.practice.services import create_practice_session
from tests.practice.conftest import Bank, answer
from tests.questions.factories import make_question
from tests.study.conftest import candidate

pytestmark = pytest.mark.django_db

AUCKLAND = ZoneInfo("Pacific/Auckland")
DAYS = 30
REVIEW_LIMIT = 6
NEW_LIMIT = 4
FIRST_DAY = datetime(2026, 11, 20).date()


def test_thirty_days_within_the_limits_and_every_due_card_seen(
    bank: Bank, time_machine: time_machine.TimeMachineFixture
) -> None:
    for i in range(30):
        make_question(bank.anatomy if i % 2 else bank.physiology, "single")
    user = candidate(
        timezone="Pacific/Auckland", daily_review_limit=REVIEW_LIMIT, daily_new_limit=NEW_LIMIT
    )
    rng = random.Random(20261204)  # nosec B311 # a reproducible candidate
    seen: set[int] = set()
    first_due: dict[int, datetime] = {}  # card -> when it was first seen due and not yet shown
    limits_reached: list[tuple[bool, bool]] = []
    for day in range(DAYS):
        local_day = FIRST_DAY + timedelta(days=day)
        # The candidate studies at 07:00 and again in the evening, in their own timezone.
        morning = datetime.combine(local_day, time(7, 0), tzinfo=AUCKLAND)
        new_today = reviews_today = 0
        for sitting, start in enumerate((morning, morning + timedelta(hours=13))):
            time_machine.move_to(start, tick=False)
            now = start
            for card in ReviewCard.objects.filter(user=user, due__lte=now):
                first_due.setdefault(card.question_id, card.due)
            for _round in range(20):
                try:
                    session = create_practice_session(
                        user=user, question_count=None, mode=PracticeMode.TODAY
                    )
                except NothingDueToday:
                    break
                reviews = session.question_ids[: session.config["reviews"]]
                due_now = list(
                    ReviewCard.objects.filter(user=user, due__lte=now)
                    .order_by("due", "question_id")
                    .values_list("question_id", flat=True)
                )
                # Most overdue first, and nothing due is skipped for a later one.
                assert reviews == due_now[: len(reviews)]
                for qid in session.question_ids:
                    if qid in seen:
                        reviews_today += 1
                        due_since = first_due.pop(qid, None)
                        assert due_since is not None, "a review shown before it was due"
                        assert due_since <= now
                    else:
                        new_today += 1
                        seen.add(qid)
                    answer(user, session, qid, right=rng.random() < 0.8)
                    now += timedelta(minutes=1)
                    time_machine.move_to(now, tick=False)
                # Wrong answers come back after their 10-minute step.
                now += timedelta(minutes=15)
                time_machine.move_to(now, tick=False)
                for card in ReviewCard.objects.filter(user=user, due__lte=now):
                    first_due.setdefault(card.question_id, card.due)
            else:
                pytest.fail("the day's queue never ran out")
            counts = today_counts(user=user)
            assert counts.day.date == local_day
            assert (counts.new_done, counts.reviews_done) == (new_today, reviews_today)
            assert new_today <= NEW_LIMIT
            assert reviews_today <= REVIEW_LIMIT
            if reviews_today < REVIEW_LIMIT:
                # Under the limit the queue was drained: nothing due is left waiting.
                assert counts.reviews_due == 0, (day, sitting)
            if counts.new_remaining == 0 and new_today < NEW_LIMIT:
                assert counts.new_available == 0
        limits_reached.append((new_today == NEW_LIMIT, reviews_today == REVIEW_LIMIT))
    # Every card that fell due was shown, except those due since the last day's study.
    last_study = datetime.combine(FIRST_DAY + timedelta(days=DAYS - 1), time(7), tzinfo=AUCKLAND)
    waiting = {qid: due for qid, due in first_due.items() if due < last_study - timedelta(days=1)}
    assert waiting == {}
    assert len(seen) == 40  # the whole bank was met, four a day
    # Both limits bound on some days, so the run tested them rather than never reaching them.
    assert sum(new for new, _ in limits_reached) == 10
    assert any(review for _, review in limits_reached)
    per_day = Counter(
        c.created_at.astimezone(AUCKLAND).date() for c in ReviewCard.objects.filter(user=user)
    )
    assert max(per_day.values()) <= NEW_LIMIT
