"""The candidate's study day: ``GET /study/today`` and the dashboard's ``today`` block.

The counts and their rules are practice's (:mod:`apps.practice.selectors.today`: the day is the
candidate's, from their local midnight); the plan is :mod:`.plan`, the streaks :mod:`.streaks`.

**Today's goal** is the day's work within the limits: the reviews and new questions done today
plus those the limits still allow (``goal_target``). It is done when nothing is left within the
limits; on a day with nothing to do it is done from the start. It rewards finishing the day's
schedule, never answering more or faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from apps.accounts.models import User
from apps.practice.selectors import today_counts
from apps.study.selectors.plan import StudyPlan, plan_for
from apps.study.selectors.streaks import current_streak_days, streak_of


@dataclass(frozen=True)
class StudyStreak:
    current_days: int
    longest_days: int
    goal_done_today: bool
    goal_target: int
    goal_done: int


@dataclass(frozen=True)
class ReviewsToday:
    due: int
    done_today: int
    limit: int
    remaining: int


@dataclass(frozen=True)
class NewToday:
    available: int
    done_today: int
    limit: int
    remaining: int


@dataclass(frozen=True)
class StudyToday:
    date: date
    reviews: ReviewsToday
    new: NewToday
    next_due_at: datetime | None
    plan: StudyPlan | None
    streak: StudyStreak


def study_today(*, user: User, now: datetime | None = None) -> StudyToday:
    """The candidate's day (api-contract.md, "Study today"). A fixed number of queries,
    whatever their history."""
    now = now or timezone.now()
    counts = today_counts(user=user, now=now)
    streak = streak_of(user_id=user.pk, today=counts.day.date)
    return StudyToday(
        date=counts.day.date,
        reviews=ReviewsToday(
            due=counts.reviews_due,
            done_today=counts.reviews_done,
            limit=counts.review_limit,
            remaining=counts.reviews_remaining,
        ),
        new=NewToday(
            available=counts.new_available,
            done_today=counts.new_done,
            limit=counts.new_limit,
            remaining=counts.new_remaining,
        ),
        next_due_at=counts.next_due_at,
        plan=plan_for(user=user, now=now),
        streak=StudyStreak(
            current_days=streak.current_days,
            longest_days=streak.longest_days,
            goal_done_today=counts.goal_done,
            goal_target=counts.goal,
            goal_done=counts.reviews_done + counts.new_done,
        ),
    )


@dataclass(frozen=True)
class TodayBlock:
    """The dashboard's ``today`` block, with when it stops being true without an answer."""

    reviews_due: int
    new_remaining: int
    streak_days: int
    # The next moment the block changes by the clock alone: the next card falling due or the
    # candidate's next midnight, whichever comes first.
    valid_until: datetime

    def as_json(self) -> dict[str, int]:
        return {
            "reviews_due": self.reviews_due,
            "new_remaining": self.new_remaining,
            "streak_days": self.streak_days,
        }


def today_block(*, user: User, now: datetime | None = None) -> TodayBlock:
    """The dashboard's ``today`` block: the reviews the ``today`` mode would hand out now, the
    new questions it still allows today, and the current streak. A fixed number of queries,
    each reading a bounded number of rows whatever the history (the cards, the bank, the day's
    answers and new cards, the streak)."""
    now = now or timezone.now()
    # Without the open exams' questions: the exams' lookup reads every exam of the learner when
    # PostgreSQL runs it with a generic plan, and the dashboard's cost must not grow with the
    # history (tests/dashboard/test_cost.py). While a mock is open its questions may be counted
    # here; the session itself leaves them out, and /study/today counts without them.
    counts = today_counts(user=user, now=now, held_out=())
    valid_until = counts.day.end
    if counts.next_due_at is not None and counts.next_due_at < valid_until:
        valid_until = counts.next_due_at
    return TodayBlock(
        reviews_due=counts.reviews_remaining,
        new_remaining=counts.new_remaining,
        streak_days=current_streak_days(user_id=user.pk, today=counts.day.date),
        valid_until=valid_until,
    )
