"""The candidate's practice across sessions: per category, and the last practice (on the
dashboard)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from django.db.models import Count, Max, Q

from apps.core import sql
from apps.practice.models import PracticeAttempt, PracticeSession
from apps.practice.selectors.sessions import score_percent
from apps.taxonomy.models import Category
from apps.taxonomy.selectors import active_category_rows


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


# ``answered > 0`` and the order match the partial index practice_session_user_activity.
LAST_ANSWERED_SESSION = sql.CompiledQuery(
    lambda *, user_id: (
        # CompiledQuery writes the 0 into the SQL text (a constant, not a parameter), so a
        # generic plan matches the partial index practice_session_user_activity too
        # (tests/dashboard/test_cost.py).
        PracticeSession.objects.filter(user_id=user_id, answered__gt=0)
        .order_by("-last_activity_at", "-id")
        .values("id", "answered", "correct", "category_ids", "last_activity_at", "created_at")[:1]
    ),
    user_id=-9_000_001,
)


def last_practice_summary(
    *, user_id: int, known_categories: Sequence[tuple[int, str]] | None = None
) -> LastPracticeSummary | None:
    """The user's most recent practice session with at least one answer ("most recent" by its
    last answer or completion), or ``None``. Reads the session's denormalised counters in one
    query compiled once per process (:data:`LAST_ANSWERED_SESSION`: it is on every uncached
    dashboard), whatever the history's size. ``categories`` are names in syllabus order.

    ``known_categories`` are ``(id, name)`` pairs in syllabus order that the caller already
    holds (the dashboard's active categories); without them the shared cached list of active
    categories is used. Only a session that touched a category not among them (since retired)
    costs a second query."""
    row = LAST_ANSWERED_SESSION.fetch_first(user_id=user_id)
    if row is None:
        return None
    answered, correct = row["answered"], row["correct"]
    return {
        "at": row["last_activity_at"] or row["created_at"],
        "session_id": row["id"],
        "score_percent": score_percent(correct=correct, answered=answered) or 0,
        "correct": correct,
        "incorrect": answered - correct,
        "categories": _category_names(row["category_ids"] or [], known_categories),
    }


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
