"""Today's spaced-repetition work: what is due, what is new, and what the daily limits allow.

Every count is of the candidate's own day, in their profile timezone: the day starts at their
local midnight, whatever the server's clock says.

* **A new question** is one the candidate has never answered in practice (no review card). A
  question met only in a mock is still new to the scheduler: exams do not feed it.
* **New done today** is the cards created today, that is the questions first answered in
  practice today, in any mode.
* **Reviews done today** is every other practice answer today: answers to questions first
  answered on an earlier day, and a second answer today to one first met today (its 10-minute
  relearning step). The daily review limit counts them all, so a wrong answer's quick repeat is
  not free.
* **Remaining** is the limit less what was done, and never more than is available. Free
  practice in the other modes counts towards what was done (it is study all the same) but is
  never refused: the limits bound what the ``today`` mode hands out, not what a candidate may
  choose to practise.

Questions of the candidate's exams that still take answers (the ``questions.held_out`` port)
are left out of every count, as they are left out of every draw.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, Min, Q
from django.utils import timezone

from apps.accounts.models import (
    DEFAULT_DAILY_NEW_LIMIT,
    DEFAULT_DAILY_REVIEW_LIMIT,
    DEFAULT_DESIRED_RETENTION,
    Profile,
    User,
)
from apps.billing.entitlements import Entitlement, has_entitlement
from apps.core import sql
from apps.practice.models import PracticeAttempt, ReviewCard
from apps.questions.held_out import held_out_questions
from apps.questions.selectors import published_question_count, published_questions


@dataclass(frozen=True)
class StudySettings:
    """The candidate's study settings from their profile (the defaults without one)."""

    timezone: str
    desired_retention: float
    daily_review_limit: int
    daily_new_limit: int
    exam_sitting: date | None

    @property
    def zone(self) -> ZoneInfo:
        """The profile's zone; UTC for an empty or unknown name (never an error)."""
        try:
            return ZoneInfo(self.timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


def study_settings_of(user: User) -> StudySettings:
    """The user's study settings (the profile is loaded with the user by authentication; no
    query when it is)."""
    try:
        profile = user.profile
    except Profile.DoesNotExist:
        return StudySettings(
            timezone="UTC",
            desired_retention=DEFAULT_DESIRED_RETENTION,
            daily_review_limit=DEFAULT_DAILY_REVIEW_LIMIT,
            daily_new_limit=DEFAULT_DAILY_NEW_LIMIT,
            exam_sitting=None,
        )
    new_limit = profile.daily_new_limit
    if not has_entitlement(user, Entitlement.UNLIMITED_NEW_QUESTIONS):
        # With billing on, a plan without it keeps new questions at the default daily number;
        # a learner may still choose fewer. Billing off: always entitled, no query.
        new_limit = min(new_limit, DEFAULT_DAILY_NEW_LIMIT)
    return StudySettings(
        timezone=profile.timezone or "UTC",
        desired_retention=profile.desired_retention,
        daily_review_limit=profile.daily_review_limit,
        daily_new_limit=new_limit,
        exam_sitting=profile.exam_sitting,
    )


@dataclass(frozen=True)
class LocalDay:
    """One calendar day of the candidate: its date and its bounds as aware datetimes."""

    date: date
    start: datetime
    end: datetime


def local_day(zone: ZoneInfo, now: datetime) -> LocalDay:
    """The candidate's day holding ``now``: from their local midnight to the next one (23 or
    25 hours long on the days the clocks change)."""
    day = timezone.localtime(now, zone).date()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return LocalDay(date=day, start=start, end=end)


@dataclass(frozen=True)
class TodayCounts:
    """Where the candidate's day stands (see the module docstring for each count's rule)."""

    day: LocalDay
    review_limit: int
    new_limit: int
    reviews_done: int
    new_done: int
    # Cards due now (most overdue included), of questions that can be drawn.
    reviews_due: int
    # Questions never answered in practice that can be drawn.
    new_available: int
    # When the next card not yet due falls due; None when none is scheduled.
    next_due_at: datetime | None

    @property
    def reviews_remaining(self) -> int:
        """Due reviews the ``today`` mode may still hand out today."""
        return max(0, min(self.review_limit - self.reviews_done, self.reviews_due))

    @property
    def new_remaining(self) -> int:
        """New questions the ``today`` mode may still hand out today."""
        return max(0, min(self.new_limit - self.new_done, self.new_available))

    @property
    def goal(self) -> int:
        """Today's goal: what was done today plus what is left within the limits."""
        return self.reviews_done + self.new_done + self.reviews_remaining + self.new_remaining

    @property
    def goal_done(self) -> bool:
        """Nothing left within today's limits (trivially so on a day with nothing to do)."""
        return self.reviews_remaining == 0 and self.new_remaining == 0


# The day's answers through the sessions active that day. Compiled so that ``answered > 0`` is
# written into the SQL: a generic plan (prepared statements) then still matches the partial
# index practice_session_user_activity and reads the day's sessions, not every session the
# learner ever had (tests/dashboard/test_cost.py).
ANSWERED_IN_DAY = sql.CompiledQuery(
    lambda *, user_id, start, end: (
        PracticeAttempt.objects.filter(
            session__user_id=user_id,
            session__answered__gt=0,
            session__last_activity_at__gte=start,
            answered_at__gte=start,
            answered_at__lt=end,
        )
        .order_by()
        .values("session__user_id")
        .annotate(answered=Count("id"))
        .values("answered")
    ),
    user_id=-9_000_001,
    start=datetime(1901, 1, 1, tzinfo=UTC),
    end=datetime(1901, 1, 2, tzinfo=UTC),
)


def done_today(*, user_id: int, day: LocalDay) -> tuple[int, int]:
    """``(reviews_done, new_done)`` of the candidate's ``day``: two counts, each reading only
    the day's rows (the sessions active that day through their activity index, the day's new
    cards)."""
    row = ANSWERED_IN_DAY.fetch_first(user_id=user_id, start=day.start, end=day.end)
    answered = row["answered"] if row else 0
    new = ReviewCard.objects.filter(
        user_id=user_id, created_at__gte=day.start, created_at__lt=day.end
    ).count()
    # A first answer is both an answer and a new card; every other answer is a review.
    return max(0, answered - new), new


def today_counts(
    *, user: User, now: datetime | None = None, held_out: Collection[int] | None = None
) -> TodayCounts:
    """The candidate's day: done, due, available and the limits. A fixed number of queries
    (the open exams' questions unless ``held_out`` is given, the cards, the bank, the day's
    answers, the day's new cards: five)."""
    now = now or timezone.now()
    settings = study_settings_of(user)
    day = local_day(settings.zone, now)
    if held_out is None:
        held_out = held_out_questions.get().question_ids(user_id=user.pk, at=now)
    drawable = published_questions().exclude(id__in=list(held_out))
    # One pass over the learner's cards of drawable questions (the bank is read once, not once
    # per count).
    cards = ReviewCard.objects.filter(
        user_id=user.pk, question_id__in=drawable.values("id")
    ).aggregate(
        # Aliases differ from the fields: an alias named like one would shadow it in the filters.
        due_now=Count("id", filter=Q(due__lte=now)),
        seen=Count("id"),
        next_due_at=Min("due", filter=Q(due__gt=now)),
    )
    # The bank's size changes rarely and costs a scan to count: read once a minute per process,
    # less the held-out questions (a handful, counted only when an exam is open).
    bank = published_question_count()
    if held_out:
        bank -= published_questions().filter(id__in=list(held_out)).count()
    reviews_done, new_done = done_today(user_id=user.pk, day=day)
    return TodayCounts(
        day=day,
        review_limit=settings.daily_review_limit,
        new_limit=settings.daily_new_limit,
        reviews_done=reviews_done,
        new_done=new_done,
        reviews_due=cards["due_now"],
        new_available=max(0, bank - cards["seen"]),
        next_due_at=cards["next_due_at"],
    )


def new_question_ids(*, user_id: int, pool: Collection[int]) -> list[int]:
    """The questions of ``pool`` the candidate has never answered in practice (no card), in id
    order."""
    # All the user's cards rather than an IN list of the pool (the whole bank, thousands).
    seen = set(ReviewCard.objects.filter(user_id=user_id).values_list("question_id", flat=True))
    return sorted(qid for qid in pool if qid not in seen)
