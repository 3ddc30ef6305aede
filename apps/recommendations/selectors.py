"""Suggested topics: which categories a learner should practise next, and why.

Computed on read from the learner's per-category aggregates (``apps.analytics``) and their
dismissals, so they change the moment an answer is recorded and as days pass ("Needs Review"),
with nothing to refresh: two queries (the aggregates and the dismissals; the active
categories come from a shared cache), whatever the history.

Rules (thresholds in settings), best first:

1. **Low Score**: answered >= ``RECOMMENDATION_LOW_SCORE_MIN_ANSWERED`` with a score below
   ``RECOMMENDATION_LOW_SCORE_PERCENT``; lowest score first.
2. **Needs Review**: started, not a low score, and not practised for more than
   ``RECOMMENDATION_REVIEW_AFTER_DAYS`` days; longest unpractised first.
3. **Not Started**: no answers yet; in syllabus order.
4. **Keep Practising**: only to make up the minimum of three suggestions when the rules above
   give fewer: the remaining started categories, lowest score first.

Between 3 and 5 suggestions (fewer only if fewer active categories are left once dismissed
ones are hidden). Only active categories are suggested; a dismissed category is hidden for
``RECOMMENDATION_DISMISS_DAYS`` days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.analytics.selectors import CategoryStat, LearnerStats, learner_stats
from apps.core import sql
from apps.recommendations.models import TopicDismissal

LOW_SCORE = "Low Score"
NEEDS_REVIEW = "Needs Review"
NOT_STARTED = "Not Started"
KEEP_PRACTISING = "Keep Practising"
REASONS = (LOW_SCORE, NEEDS_REVIEW, NOT_STARTED, KEEP_PRACTISING)
MIN_TOPICS = 3
MAX_TOPICS = 5


def dismissal_cutoff(now: datetime | None = None) -> datetime:
    """Dismissals made before this moment have expired."""
    return (now or timezone.now()) - timedelta(days=settings.RECOMMENDATION_DISMISS_DAYS)


DISMISSED = sql.CompiledQuery(
    lambda *, user_id, cutoff: (
        TopicDismissal.objects.filter(user_id=user_id, dismissed_at__gt=cutoff)
        .order_by()
        .values("category_id")
    ),
    user_id=-9_000_001,
    cutoff=datetime(1901, 1, 1, tzinfo=UTC),
)
"""The categories the learner dismissed after ``cutoff`` (at most one row per category)."""


def dismissed_category_ids(*, user_id: int, now: datetime | None = None) -> set[int]:
    """Categories the learner dismissed recently enough to stay hidden (one query, compiled
    once: it is on every uncached dashboard)."""
    rows = DISMISSED.fetch(user_id=user_id, cutoff=dismissal_cutoff(now))
    return {row["category_id"] for row in rows}


def rank_topics(
    *,
    categories: Sequence[CategoryStat],
    dismissed: Iterable[int] = (),
    now: datetime | None = None,
    limit: int = MAX_TOPICS,
) -> list[dict[str, Any]]:
    """The rules of this module over ``categories`` (active, in syllabus order). Pure."""
    now = now or timezone.now()
    hidden = set(dismissed)
    pool = [c for c in categories if c.category_id not in hidden]
    min_answered = settings.RECOMMENDATION_LOW_SCORE_MIN_ANSWERED
    low_below = settings.RECOMMENDATION_LOW_SCORE_PERCENT
    stale_before = now - timedelta(days=settings.RECOMMENDATION_REVIEW_AFTER_DAYS)

    position = {c.category_id: i for i, c in enumerate(pool)}
    low = sorted(
        (c for c in pool if c.answered >= min_answered and c.score_percent < low_below),
        key=lambda c: (c.score_percent, position[c.category_id]),
    )
    low_ids = {c.category_id for c in low}
    review = sorted(
        (
            c
            for c in pool
            if c.answered > 0
            and c.category_id not in low_ids
            and c.last_practiced_at is not None
            and c.last_practiced_at < stale_before
        ),
        key=lambda c: (c.last_practiced_at, position[c.category_id]),
    )
    fresh = [c for c in pool if c.answered == 0]
    ranked: list[tuple[CategoryStat, str]] = (
        [(c, LOW_SCORE) for c in low]
        + [(c, NEEDS_REVIEW) for c in review]
        + [(c, NOT_STARTED) for c in fresh]
    )
    if len(ranked) < MIN_TOPICS:
        chosen = {c.category_id for c, _ in ranked}
        rest = sorted(
            (c for c in pool if c.category_id not in chosen),
            key=lambda c: (c.score_percent, position[c.category_id]),
        )
        ranked += [(c, KEEP_PRACTISING) for c in rest[: MIN_TOPICS - len(ranked)]]
    return [
        {
            "category": c.name,
            "category_slug": c.slug,
            "score_percent": c.score_percent,
            "reason": reason,
            "answered": c.answered,
            "last_practiced_at": c.last_practiced_at,
        }
        for c, reason in ranked[:limit]
    ]


def suggested_topics(
    *,
    user_id: int,
    stats: LearnerStats | None = None,
    now: datetime | None = None,
    limit: int = MAX_TOPICS,
) -> list[dict[str, Any]]:
    """The learner's suggestions, best first. Pass ``stats`` if already read (the dashboard)."""
    if stats is None:
        stats = learner_stats(user_id=user_id)
    return rank_topics(
        categories=stats.categories,
        dismissed=dismissed_category_ids(user_id=user_id, now=now),
        now=now,
        limit=limit,
    )


def personal_data(*, user_id: int) -> dict[str, Any]:
    """The user's topic dismissals (the only rows recommendations stores), JSON-ready."""
    return {
        "topic_dismissals": [
            {
                "category_id": d.category_id,
                "category_slug": d.category.slug,
                "dismissed_at": d.dismissed_at.isoformat(),
            }
            for d in TopicDismissal.objects.filter(user_id=user_id)
            .select_related("category")
            .order_by("dismissed_at", "id")
        ]
    }
