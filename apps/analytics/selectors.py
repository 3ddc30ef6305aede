"""Reads of the learning record. Everything here reads the aggregates (``DailyActivity``,
``CategoryProgress``), never the raw facts, so the cost does not grow with a learner's history:
each function is one or two queries. Days and weeks are the learner's own (profile timezone,
weeks start on Monday)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum

from apps.accounts.models import User
from apps.analytics.localtime import (
    days_between,
    month_bounds,
    today_in,
    week_start,
    zone_of,
)
from apps.analytics.models import (
    AnswerFact,
    ArchivedActivity,
    ArchivedProgress,
    CategoryProgress,
    DailyActivity,
    HeartbeatLog,
    LearnerState,
)
from apps.core import sql
from apps.core.db_routing import reading_from_replica
from apps.taxonomy.selectors import active_category_rows

StudyRange = Literal["week", "month"]
STUDY_RANGES: tuple[StudyRange, ...] = ("week", "month")
HEATMAP_DEFAULT_DAYS = 365
HEATMAP_MAX_DAYS = 366
TRENDS_DEFAULT_WEEKS = 12
TRENDS_MAX_WEEKS = 104


def score_percent(*, correct: int, answered: int) -> int:
    """Whole-number percentage correct, rounded half up; 0 when nothing was answered."""
    if answered <= 0:
        return 0
    return (correct * 200 + answered) // (answered * 2)


def minutes(seconds: int) -> float:
    return round(seconds / 60, 1)


def hours(seconds: int) -> float:
    return round(seconds / 3600, 1)


# --- Per category -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryStat:
    category_id: int
    name: str
    slug: str
    order: int
    answered: int
    correct: int
    last_practiced_at: datetime | None

    @property
    def score_percent(self) -> int:
        return score_percent(correct=self.correct, answered=self.answered)


@dataclass(frozen=True)
class LearnerStats:
    """The learner's standing: every *active* category in syllabus order (zeros for those not
    started) and the totals over *all* categories (answers in a since-retired category still
    count towards overall performance)."""

    categories: list[CategoryStat]
    answered: int
    correct: int

    @property
    def incorrect(self) -> int:
        return self.answered - self.correct

    @property
    def score_percent(self) -> int:
        return score_percent(correct=self.correct, answered=self.answered)


PROGRESS = sql.CompiledQuery(
    lambda *, user_id: (
        CategoryProgress.objects.filter(user_id=user_id)
        .order_by()
        .values("category_id", "answered", "correct", "last_practiced_at")
    ),
    user_id=-9_000_001,
)
"""The learner's per-category aggregates (one row per category started, in no order)."""


def learner_stats(*, user_id: int) -> LearnerStats:
    """One query, whatever the history: the learner's per-category aggregates
    (:data:`PROGRESS`, compiled once: it is on every uncached dashboard), laid over the active
    categories from the shared cache (``taxonomy.selectors.active_category_rows``)."""
    progress = {row["category_id"]: row for row in PROGRESS.fetch(user_id=user_id)}
    categories = []
    for cid, slug, name, order in active_category_rows():
        row = progress.get(cid)
        categories.append(
            CategoryStat(
                category_id=cid,
                name=name,
                slug=slug,
                order=order,
                answered=row["answered"] if row else 0,
                correct=row["correct"] if row else 0,
                last_practiced_at=row["last_practiced_at"] if row else None,
            )
        )
    return LearnerStats(
        categories=categories,
        answered=sum(row["answered"] for row in progress.values()),
        correct=sum(row["correct"] for row in progress.values()),
    )


def category_progress_for(user: User, category_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """The progress provider for ``GET /categories`` (registered with
    ``apps.taxonomy.progress``): ``{category_id: {"answered", "correct", "score_percent"}}`` in
    one query; categories not started are left out (the caller fills zeros)."""
    rows = CategoryProgress.objects.filter(
        user_id=user.pk, category_id__in=list(category_ids)
    ).values_list("category_id", "answered", "correct")
    return {
        cid: {
            "answered": answered,
            "correct": correct,
            "score_percent": score_percent(correct=correct, answered=answered),
        }
        for cid, answered, correct in rows
    }


@reading_from_replica()
def category_breakdown(*, user_id: int) -> list[dict[str, Any]]:
    """``/analytics/categories``: every active category in syllabus order."""
    return [
        {
            "category": c.name,
            "category_slug": c.slug,
            "answered": c.answered,
            "correct": c.correct,
            "incorrect": c.answered - c.correct,
            "score_percent": c.score_percent,
            "last_practiced_at": c.last_practiced_at,
        }
        for c in learner_stats(user_id=user_id).categories
    ]


# --- Totals and time ------------------------------------------------------------------------------


@reading_from_replica()
def overview(*, user: User) -> dict[str, Any]:
    """Totals over the learner's whole record, in two queries."""
    answers = CategoryProgress.objects.filter(user_id=user.pk).aggregate(
        answered=Sum("answered"), correct=Sum("correct"), started=Count("id")
    )
    time = DailyActivity.objects.filter(user_id=user.pk).aggregate(
        answer_sec=Sum("time_spent_sec"),
        reading_sec=Sum("reading_sec"),
        active_days=Count("id", filter=Q(answered__gt=0)),
    )
    answered = answers["answered"] or 0
    correct = answers["correct"] or 0
    answer_sec = time["answer_sec"] or 0
    reading_sec = time["reading_sec"] or 0
    return {
        "answered": answered,
        "correct": correct,
        "incorrect": answered - correct,
        "avg_score_percent": score_percent(correct=correct, answered=answered),
        "study_time_minutes": minutes(answer_sec + reading_sec),
        "study_time_hours": hours(answer_sec + reading_sec),
        "answer_time_minutes": minutes(answer_sec),
        "reading_time_minutes": minutes(reading_sec),
        "active_days": time["active_days"] or 0,
        "categories_started": answers["started"] or 0,
    }


def _days(user_id: int, first: date, last: date) -> dict[date, DailyActivity]:
    rows = DailyActivity.objects.filter(user_id=user_id, date__gte=first, date__lte=last)
    return {row.date: row for row in rows}


@reading_from_replica()
def study_time_series(
    *, user: User, period: StudyRange = "week", now: datetime | None = None
) -> list[dict[str, Any]]:
    """Daily study minutes for the learner's current calendar week (Monday to Sunday) or
    month, every day present (zeros included, days still to come as well), oldest first."""
    today = today_in(zone_of(user), now)
    if period == "week":
        first = week_start(today)
        last = first + timedelta(days=6)
    else:
        first, last = month_bounds(today)
    rows = _days(user.pk, first, last)
    return [
        {"date": day, "minutes": minutes(rows[day].study_sec if day in rows else 0)}
        for day in days_between(first, last)
    ]


@reading_from_replica()
def heatmap(
    *, user: User, days: int = HEATMAP_DEFAULT_DAYS, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Questions answered per day over the last ``days`` days up to today, zeros included,
    oldest first."""
    last = today_in(zone_of(user), now)
    first = last - timedelta(days=days - 1)
    rows = _days(user.pk, first, last)
    return [
        {"date": day, "count": rows[day].answered if day in rows else 0}
        for day in days_between(first, last)
    ]


@reading_from_replica()
def weekly_trends(
    *, user: User, weeks: int = TRENDS_DEFAULT_WEEKS, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Score per week (Monday start) for the last ``weeks`` weeks including this one, oldest
    first; ``score_percent`` is null for a week without answers."""
    this_week = week_start(today_in(zone_of(user), now))
    first = this_week - timedelta(weeks=weeks - 1)
    totals: dict[date, list[int]] = {first + timedelta(weeks=i): [0, 0] for i in range(weeks)}
    for row in _days(user.pk, first, this_week + timedelta(days=6)).values():
        week = totals[week_start(row.date)]
        week[0] += row.answered
        week[1] += row.correct
    return [
        {
            "week_start": start,
            "answered": answered,
            "correct": correct,
            "score_percent": score_percent(correct=correct, answered=answered)
            if answered
            else None,
        }
        for start, (answered, correct) in totals.items()
    ]


_STUDY = F("time_spent_sec") + F("reading_sec")

WEEKLY_STUDY = sql.CompiledQuery(
    lambda *, user_id, first, split, end: (
        DailyActivity.objects.filter(user_id=user_id, date__gte=first, date__lt=end)
        .order_by()
        .values("user_id")
        .annotate(
            before=Sum(_STUDY, filter=Q(date__lt=split)),
            since=Sum(_STUDY, filter=Q(date__gte=split)),
        )
        .values("before", "since")
    ),
    user_id=-9_000_001,
    first=date(1901, 1, 1),
    split=date(1902, 2, 2),
    end=date(1903, 3, 3),
)
"""Study seconds on the learner's days ``first`` <= day < ``split`` and ``split`` <= day <
``end``: one row (none without a day in the range). Reads only the days in the range, by the
``(user, date)`` index, however long the history."""


def weekly_study_seconds(*, user: User, now: datetime | None = None) -> tuple[int, int]:
    """Study seconds in the learner's current week and in the week before, in one query
    (:data:`WEEKLY_STUDY`, compiled once: it is on every uncached dashboard)."""
    this_week = week_start(today_in(zone_of(user), now))
    row = WEEKLY_STUDY.fetch_first(
        user_id=user.pk,
        first=this_week - timedelta(weeks=1),
        split=this_week,
        end=this_week + timedelta(weeks=1),
    )
    if row is None:
        return 0, 0
    return int(row["since"] or 0), int(row["before"] or 0)


# --- Personal data (GDPR export) -----------------------------------------------------------


def personal_data(*, user_id: int) -> dict[str, Any]:
    """Everything analytics holds about the user, JSON-ready: the answer record, heartbeats,
    the daily and per-category aggregates, the totals of archived answers and the learner
    state. Seven queries."""
    state = LearnerState.objects.filter(user_id=user_id).first()
    return {
        "answers": [
            {
                "question_id": f.question_id,
                "category_id": f.category_id,
                "source": f.source,
                "source_id": f.source_id,
                "is_correct": f.is_correct,
                "time_spent_sec": f.time_spent_sec,
                "counted_time_sec": f.counted_time_sec,
                "answered_at": f.answered_at.isoformat(),
                "local_date": f.local_date.isoformat(),
            }
            for f in AnswerFact.objects.filter(user_id=user_id).order_by("answered_at", "id")
        ],
        "heartbeats": [
            {"at": h.at.isoformat(), "local_date": h.local_date.isoformat(), "seconds": h.seconds}
            for h in HeartbeatLog.objects.filter(user_id=user_id).order_by("at", "id")
        ],
        "daily_activity": [
            {
                "date": d.date.isoformat(),
                "answered": d.answered,
                "correct": d.correct,
                "time_spent_sec": d.time_spent_sec,
                "reading_sec": d.reading_sec,
            }
            for d in DailyActivity.objects.filter(user_id=user_id).order_by("date")
        ],
        "category_progress": [
            {
                "category_id": p.category_id,
                "answered": p.answered,
                "correct": p.correct,
                "last_practiced_at": p.last_practiced_at.isoformat(),
            }
            for p in CategoryProgress.objects.filter(user_id=user_id).order_by("category_id")
        ],
        # Answers of archived months beyond the first attempts kept (their rows left the
        # database anonymised): what they added, per day and per category.
        "archived_answers": {
            "per_day": [
                {
                    "date": a.date.isoformat(),
                    "answered": a.answered,
                    "correct": a.correct,
                    "time_spent_sec": a.time_spent_sec,
                }
                for a in ArchivedActivity.objects.filter(user_id=user_id).order_by("date")
            ],
            "per_category": [
                {
                    "category_id": a.category_id,
                    "answered": a.answered,
                    "correct": a.correct,
                    "last_answered_at": a.last_answered_at.isoformat(),
                }
                for a in ArchivedProgress.objects.filter(user_id=user_id).order_by("category_id")
            ],
        },
        "learner_state": None
        if state is None
        else {
            "last_heartbeat_at": state.last_heartbeat_at.isoformat()
            if state.last_heartbeat_at
            else None,
            "touched_at": state.touched_at.isoformat() if state.touched_at else None,
        },
    }


# --- Reads for the notifications app (reminders, summaries, broadcast audiences) ---------------


def category_practiser_ids(*, category_id: int) -> QuerySet[CategoryProgress, int]:
    """Ids of learners who have answered at least one question in the category."""
    return CategoryProgress.objects.filter(category_id=category_id, answered__gt=0).values_list(
        "user_id", flat=True
    )


def last_study_subqueries() -> tuple[Subquery, Subquery]:
    """Two subqueries correlated on the outer user's ``pk``: the time of their last answered
    question and of their last reading heartbeat (NULL when there is none)."""
    last_answer = (
        CategoryProgress.objects.filter(user_id=OuterRef("pk"))
        .order_by()
        .values("user_id")
        .annotate(last=Max("last_practiced_at"))
        .values("last")
    )
    last_heartbeat = LearnerState.objects.filter(user_id=OuterRef("pk")).values("last_heartbeat_at")
    return Subquery(last_answer), Subquery(last_heartbeat)


def answered_between(*, user_id: int, first_day: date, last_day: date) -> tuple[int, int]:
    """``(answered, correct)`` on the learner's diary days ``first_day``..``last_day``."""
    totals = DailyActivity.objects.filter(
        user_id=user_id, date__gte=first_day, date__lte=last_day
    ).aggregate(answered=Sum("answered"), correct=Sum("correct"))
    return totals["answered"] or 0, totals["correct"] or 0


def learner_ids_active_between(*, first_day: date, last_day: date) -> QuerySet[DailyActivity, Any]:
    """A ``user_id`` subquery: learners who answered anything on those diary days."""
    return DailyActivity.objects.filter(
        date__gte=first_day, date__lte=last_day, answered__gt=0
    ).values("user_id")


def answers_per_day(*, first: date, last: date) -> dict[date, tuple[int, int]]:
    """``{day: (answered, correct)}`` over every learner, for the days between ``first`` and
    ``last`` that have answers (learners' local days, as the learning record keeps them)."""
    return {
        row["date"]: (row["answered"] or 0, row["correct"] or 0)
        for row in DailyActivity.objects.filter(date__range=(first, last))
        .order_by()
        .values("date")
        .annotate(answered=Sum("answered"), correct=Sum("correct"))
    }
