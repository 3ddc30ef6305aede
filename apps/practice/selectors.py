"""Reads of practice data. Everything a user can see is fetched through a queryset scoped to that
user, so another user's session or flag is simply not found.

Public for other apps: :func:`last_practice_summary` and :func:`flagged_question_ids`
(analytics, dashboard), :func:`review_queue` (what is due for spaced repetition),
:func:`personal_data` (the GDPR export).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from typing import Any, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.core import sql
from apps.practice.exceptions import FlagNotFound, SessionNotFound
from apps.practice.models import (
    PracticeAttempt,
    PracticeMode,
    PracticeSession,
    QuestionFlag,
    QuestionReport,
    ReviewCard,
)
from apps.questions.grading import answer_keys
from apps.questions.models import Question, QuestionStatus
from apps.questions.selectors import (
    drawable_question_ids,
    published_questions,
    question_categories,
    questions_for_display,
)
from apps.taxonomy.models import Category
from apps.taxonomy.selectors import active_category_rows


def score_percent(*, correct: int, answered: int) -> int | None:
    """Whole-number percentage of answered questions that were right, rounded half up;
    ``None`` when nothing was answered (a score of 0% would be a claim)."""
    if answered <= 0:
        return None
    return (correct * 200 + answered) // (answered * 2)


# --- Sessions ------------------------------------------------------------------------------


def sessions_for(*, user_id: int) -> QuerySet[PracticeSession]:
    """The user's sessions, newest first."""
    return PracticeSession.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def session_for(*, user_id: int, session_id: int) -> PracticeSession:
    session = PracticeSession.objects.filter(user_id=user_id, id=session_id).first()
    if session is None:
        raise SessionNotFound()
    return session


@dataclass(frozen=True)
class AnsweredFeedback:
    """The caller's answer to a session question, with the key and (if the session includes
    them) the explanation."""

    selected_option_ids: list[int]
    is_correct: bool
    correct_option_ids: list[int]
    explanation: str | None
    time_spent_sec: int
    answered_at: datetime


@dataclass(frozen=True)
class SessionQuestion:
    """One question of a session as the candidate sees it. ``attempt`` (and with it the answer
    key) is present only for questions already answered in this session."""

    position: int
    question: Question
    is_available: bool
    is_flagged: bool
    attempt: AnsweredFeedback | None


def session_questions(*, session: PracticeSession) -> list[SessionQuestion]:
    """The session's questions in drawn order, in a fixed number of queries (the questions with
    options and media, the session's attempts, the key of the answered ones, the user's
    flags)."""
    questions = questions_for_display(question_ids=session.question_ids)
    attempts = {a.question_id: a for a in PracticeAttempt.objects.filter(session=session)}
    keys = answer_keys(question_ids=list(attempts)) if attempts else {}
    flagged = set(
        QuestionFlag.objects.filter(
            user_id=session.user_id, question_id__in=session.question_ids, is_flagged=True
        ).values_list("question_id", flat=True)
    )
    items = []
    for position, question in enumerate(questions, start=1):
        attempt = attempts.get(question.id)
        items.append(
            SessionQuestion(
                position=position,
                question=question,
                is_available=question.status == QuestionStatus.PUBLISHED
                and question.category.is_active,
                is_flagged=question.id in flagged,
                attempt=None
                if attempt is None
                else AnsweredFeedback(
                    selected_option_ids=list(attempt.selected_option_ids),
                    is_correct=attempt.is_correct,
                    correct_option_ids=keys.get(question.id, []),
                    explanation=question.explanation if session.include_explanations else None,
                    time_spent_sec=attempt.time_spent_sec,
                    answered_at=attempt.answered_at,
                ),
            )
        )
    return items


class CategoryScore(TypedDict):
    category: str
    category_slug: str
    question_count: int
    answered: int
    correct: int
    score_percent: int | None


class SessionSummary(TypedDict):
    id: int
    question_count: int
    answered: int
    correct: int
    incorrect: int
    unanswered: int
    score_percent: int | None
    time_spent_sec: int
    created_at: datetime
    completed_at: datetime | None
    categories: list[CategoryScore]


def session_summary(*, session: PracticeSession) -> SessionSummary:
    """Totals from the session's counters and a per-category breakdown of its questions (the
    category an answer was recorded under, the current one for unanswered questions), in the
    syllabus order. Three queries."""
    per_category: dict[int, dict[str, int]] = {}

    def entry(category_id: int) -> dict[str, int]:
        return per_category.setdefault(
            category_id, {"question_count": 0, "answered": 0, "correct": 0}
        )

    answered_ids: set[int] = set()
    for question_id, category_id, is_correct in PracticeAttempt.objects.filter(
        session=session
    ).values_list("question_id", "category_id", "is_correct"):
        answered_ids.add(question_id)
        row = entry(category_id)
        row["question_count"] += 1
        row["answered"] += 1
        row["correct"] += int(is_correct)
    unanswered = [qid for qid in session.question_ids if qid not in answered_ids]
    if unanswered:
        for category_id in question_categories(question_ids=unanswered).values():
            entry(category_id)["question_count"] += 1
    categories = Category.objects.filter(id__in=list(per_category)).order_by("order", "name")
    return {
        "id": session.id,
        "question_count": session.question_count,
        "answered": session.answered,
        "correct": session.correct,
        "incorrect": session.answered - session.correct,
        "unanswered": max(session.question_count - session.answered, 0),
        "score_percent": score_percent(correct=session.correct, answered=session.answered),
        "time_spent_sec": session.time_spent_sec,
        "created_at": session.created_at,
        "completed_at": session.completed_at,
        "categories": [
            {
                "category": c.name,
                "category_slug": c.slug,
                "question_count": per_category[c.id]["question_count"],
                "answered": per_category[c.id]["answered"],
                "correct": per_category[c.id]["correct"],
                "score_percent": score_percent(
                    correct=per_category[c.id]["correct"], answered=per_category[c.id]["answered"]
                ),
            }
            for c in categories
        ],
    }


# --- The caller's practice across sessions -------------------------------------------------


class CategoryPractice(TypedDict):
    category: str
    category_slug: str
    answered: int
    correct: int
    score_percent: int | None
    last_practiced_at: datetime | None


def practice_by_category(*, user_id: int) -> list[CategoryPractice]:
    """Every active category in syllabus order with the user's practice answers in it (zeros
    for categories never practised). Two queries, whatever the history's size."""
    stats = {
        row["category_id"]: row
        for row in PracticeAttempt.objects.filter(session__user_id=user_id)
        .values("category_id")
        .annotate(
            answered=Count("id"),
            correct=Count("id", filter=Q(is_correct=True)),
            last_at=Max("answered_at"),
        )
        .order_by()
    }
    result: list[CategoryPractice] = []
    for category in Category.objects.filter(is_active=True).order_by("order", "name"):
        row: dict[str, Any] = dict(stats.get(category.id) or {})
        answered = row.get("answered", 0)
        correct = row.get("correct", 0)
        result.append(
            {
                "category": category.name,
                "category_slug": category.slug,
                "answered": answered,
                "correct": correct,
                "score_percent": score_percent(correct=correct, answered=answered),
                "last_practiced_at": row.get("last_at"),
            }
        )
    return result


class LastPracticeSummary(TypedDict):
    at: datetime
    session_id: int
    score_percent: int
    correct: int
    incorrect: int
    categories: list[str]


def last_practice_summary(
    *, user_id: int, known_categories: Sequence[tuple[int, str]] | None = None
) -> LastPracticeSummary | None:
    """The user's most recent practice session with at least one answer ("most recent" by its
    last answer or completion), or ``None``. Reads the session's denormalised counters in one
    written-out query (apps/core/sql.py: it is on every uncached dashboard), whatever the
    history's size. ``categories`` are names in syllabus order.

    ``known_categories`` are ``(id, name)`` pairs in syllabus order that the caller already
    holds (the dashboard's active categories); without them the shared cached list of active
    categories is used. Only a session that touched a category not among them (since retired)
    costs a second query."""
    row = sql.fetch_one(_last_session_sql(), [user_id, 0])
    if row is None:
        return None
    session_id, answered, correct, category_ids, last_activity_at, created_at = row
    if isinstance(category_ids, str):  # JSON arrives as text from both backends
        category_ids = json.loads(category_ids)
    return {
        "at": sql.aware(last_activity_at or created_at),
        "session_id": session_id,
        "score_percent": score_percent(correct=correct, answered=answered) or 0,
        "correct": correct,
        "incorrect": answered - correct,
        "categories": _category_names(category_ids or [], known_categories),
    }


@cache
def _last_session_sql() -> str:
    # ``answered > 0`` and the order match the partial index practice_session_user_activity.
    return (
        "SELECT id, answered, correct, category_ids, last_activity_at, created_at "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"FROM {sql.quote(PracticeSession._meta.db_table)} "
        "WHERE user_id = %s AND answered > %s "
        "ORDER BY last_activity_at DESC, id DESC LIMIT 1"
    )


def _category_names(
    category_ids: Sequence[int], known: Sequence[tuple[int, str]] | None
) -> list[str]:
    """Names of ``category_ids`` in syllabus order."""
    wanted = set(category_ids)
    if not wanted:
        return []
    if known is None:
        known = [(cid, name) for cid, _slug, name, _order in active_category_rows()]
    names = [name for cid, name in known if cid in wanted]
    if len(names) == len(wanted):
        return names
    # A category the caller does not know (retired since): read them all as they are now.
    return list(
        Category.objects.filter(id__in=wanted)
        .order_by("order", "name")
        .values_list("name", flat=True)
    )


# --- Flags ---------------------------------------------------------------------------------


def flags_for(*, user_id: int) -> QuerySet[QuestionFlag]:
    """The user's flags and notes, most recently changed first, with the question and its
    category joined in."""
    return (
        QuestionFlag.objects.filter(user_id=user_id)
        .select_related("question__category")
        .order_by("-updated_at", "-id")
    )


def flag_for(*, user_id: int, question_id: int) -> QuestionFlag:
    flag = flags_for(user_id=user_id).filter(question_id=question_id).first()
    if flag is None:
        raise FlagNotFound()
    return flag


def flagged_question_ids(*, user_id: int) -> list[int]:
    """Ids of the questions the user has flagged, in id order."""
    return list(
        QuestionFlag.objects.filter(user_id=user_id, is_flagged=True)
        .order_by("question_id")
        .values_list("question_id", flat=True)
    )


# --- The pool a new session draws from -----------------------------------------------------


def practised_question_ids(*, user_id: int) -> set[int]:
    """Questions the user has answered in any practice session."""
    return set(
        PracticeAttempt.objects.filter(session__user_id=user_id)
        .values_list("question_id", flat=True)
        .distinct()
    )


def last_answered_wrong_question_ids(*, user_id: int) -> set[int]:
    """Questions whose latest practice answer by the user was wrong (an attempt with no later
    attempt on the same question)."""
    mine = PracticeAttempt.objects.filter(session__user_id=user_id)
    later = mine.filter(question_id=OuterRef("question_id")).filter(
        Q(answered_at__gt=OuterRef("answered_at"))
        | Q(answered_at=OuterRef("answered_at"), id__gt=OuterRef("id"))
    )
    return set(
        mine.filter(is_correct=False)
        .annotate(superseded=Exists(later))
        .filter(superseded=False)
        .values_list("question_id", flat=True)
    )


def practice_pool(
    *,
    user_id: int,
    category_slugs: Sequence[str] = (),
    subcategory_slugs: Sequence[str] = (),
    mode: str = PracticeMode.ALL,
) -> list[int]:
    """Ids of the published questions a new session may draw from, in id order (the order the
    seeded draw relies on), narrowed by ``mode``."""
    pool = drawable_question_ids(category_slugs=category_slugs, subcategory_slugs=subcategory_slugs)
    if mode == PracticeMode.UNANSWERED:
        seen = practised_question_ids(user_id=user_id)
        return [qid for qid in pool if qid not in seen]
    if mode == PracticeMode.INCORRECT:
        wrong = last_answered_wrong_question_ids(user_id=user_id)
        return [qid for qid in pool if qid in wrong]
    if mode == PracticeMode.FLAGGED:
        flagged = set(flagged_question_ids(user_id=user_id))
        return [qid for qid in pool if qid in flagged]
    if mode == PracticeMode.DUE:
        drawable = set(pool)
        return [qid for qid in due_question_ids(user_id=user_id) if qid in drawable]
    return pool


# --- Spaced repetition ---------------------------------------------------------------------


def due_question_ids(*, user_id: int, now: datetime | None = None) -> list[int]:
    """Questions whose review card is due (``due <= now``), most overdue first (ties by
    question id). Unlike the other pools this order matters: the ``due`` mode keeps it."""
    return list(
        ReviewCard.objects.filter(user_id=user_id, due__lte=now or timezone.now())
        .order_by("due", "question_id")
        .values_list("question_id", flat=True)
    )


class ReviewQueue(TypedDict):
    due_now: int
    due_today: int
    next_due_at: datetime | None


def _zone_of(user: User) -> ZoneInfo:
    """The user's profile timezone; UTC without a profile or for an unknown name."""
    try:
        name = user.profile.timezone
    except User.profile.RelatedObjectDoesNotExist:
        name = ""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def review_queue(*, user: User, now: datetime | None = None) -> ReviewQueue:
    """How many of the user's cards are due now, how many by the end of the user's day (in
    their profile timezone; the overdue ones included), and when the next card not yet due
    falls due (``None`` when none is scheduled). Only cards of questions a candidate can still
    be asked count, so the numbers agree with what the ``due`` mode draws. One query (the
    profile comes with the authenticated user)."""
    now = now or timezone.now()
    zone = _zone_of(user)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    end_of_today = datetime.combine(tomorrow, time.min, tzinfo=zone)
    row = ReviewCard.objects.filter(
        user_id=user.pk, question_id__in=published_questions().values("id")
    ).aggregate(
        due_now=Count("id", filter=Q(due__lte=now)),
        due_today=Count("id", filter=Q(due__lt=end_of_today)),
        next_due_at=Min("due", filter=Q(due__gt=now)),
    )
    return {
        "due_now": row["due_now"],
        "due_today": row["due_today"],
        "next_due_at": row["next_due_at"],
    }


# --- Personal data (GDPR export) -----------------------------------------------------------


def personal_data(*, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Everything practice holds about the user, as JSON-ready data: sessions with their
    answers, flags with the private notes, the user's problem reports and spaced-repetition
    cards (with the scheduler's state of each). Five queries."""
    sessions = PracticeSession.objects.filter(user_id=user_id).order_by("created_at", "id")
    attempts: dict[int, list[dict[str, Any]]] = {}
    for a in PracticeAttempt.objects.filter(session__user_id=user_id).order_by("answered_at", "id"):
        attempts.setdefault(a.session_id, []).append(
            {
                "question_id": a.question_id,
                "category_id": a.category_id,
                "selected_option_ids": a.selected_option_ids,
                "is_correct": a.is_correct,
                "question_version": a.question_version,
                "time_spent_sec": a.time_spent_sec,
                "answered_at": a.answered_at.isoformat(),
            }
        )
    return {
        "practice_sessions": [
            {
                "id": s.id,
                "config": s.config,
                "question_ids": s.question_ids,
                "seed": s.seed,
                "answered": s.answered,
                "correct": s.correct,
                "time_spent_sec": s.time_spent_sec,
                "created_at": s.created_at.isoformat(),
                "completed_at": s.completed_at.isoformat() if s.completed_at else None,
                "attempts": attempts.get(s.id, []),
            }
            for s in sessions
        ],
        "question_flags": [
            {
                "question_id": f.question_id,
                "is_flagged": f.is_flagged,
                "note": f.note,
                "created_at": f.created_at.isoformat(),
                "updated_at": f.updated_at.isoformat(),
            }
            for f in QuestionFlag.objects.filter(user_id=user_id).order_by("created_at", "id")
        ],
        "question_reports": [
            {
                "question_id": r.question_id,
                "reason": r.reason,
                "message": r.message,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
            }
            for r in QuestionReport.objects.filter(user_id=user_id).order_by("created_at", "id")
        ],
        "review_cards": [
            {
                "question_id": c.question_id,
                "due": c.due.isoformat(),
                "last_review_at": c.last_review_at.isoformat() if c.last_review_at else None,
                "reps": c.reps,
                "lapses": c.lapses,
                "state": c.state,
                "created_at": c.created_at.isoformat(),
            }
            for c in ReviewCard.objects.filter(user_id=user_id).order_by("created_at", "id")
        ],
    }
