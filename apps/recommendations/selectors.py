"""Suggested topics: which categories a learner should practise next, and why.

Every active category is ranked by the marks on Part A an hour of practice there is expected to
gain, with a reason in words and the evidence (``apps/recommendations/ranking.py``). Rankings
are stored per learner (:class:`~apps.recommendations.models.StoredTopics`): computed nightly for
active learners, and on read when the stored one is older than the learner's latest answer by
more than ``RECOMMENDATION_STALE_SECONDS`` (or missing). A read is then the stored row and the
dismissals: two queries, whatever the history. Dismissed categories are hidden for
``RECOMMENDATION_DISMISS_DAYS`` days; between 3 and 5 suggestions are served (fewer only when
fewer active categories are left).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.selectors import LearnerStats, learner_stats
from apps.core import sql
from apps.recommendations.models import StoredTopics, TopicDismissal
from apps.recommendations.ranking import (
    KEEP_PRACTISING,
    LOW_SCORE,
    NEEDS_REVIEW,
    NOT_STARTED,
    REASONS,
)
from apps.taxonomy.selectors import active_category_rows

__all__ = ["KEEP_PRACTISING", "LOW_SCORE", "NEEDS_REVIEW", "NOT_STARTED", "REASONS"]
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


def _latest_answer(stats: LearnerStats) -> datetime | None:
    times = [c.last_practiced_at for c in stats.categories if c.last_practiced_at is not None]
    return max(times) if times else None


STORED = sql.CompiledQuery(
    lambda *, user_id: (
        StoredTopics.objects.filter(user_id=user_id)
        .order_by()
        .values("computed_at", "basis_answered_at", "topics")
    ),
    user_id=-9_000_001,
)
"""The learner's stored ranking (one row at most)."""


def ranked_topics(
    *, user: User, stats: LearnerStats | None = None, now: datetime | None = None
) -> tuple[list[dict[str, Any]], datetime]:
    """Every active category ranked, and when the ranking was computed. Reads the stored ranking;
    recomputes and stores it (``services.store_topics``) when there is none, or when the
    learner's latest answer is newer than it by more than ``RECOMMENDATION_STALE_SECONDS``."""
    from apps.recommendations.services import store_topics

    now = now or timezone.now()
    if stats is None:
        stats = learner_stats(user_id=user.pk)
    rows = STORED.fetch(user_id=user.pk)
    latest = _latest_answer(stats)
    stale = timedelta(seconds=settings.RECOMMENDATION_STALE_SECONDS)
    if rows:
        row = rows[0]
        fresh = latest is None or latest - row["computed_at"] <= stale
        if fresh:
            return list(sql.decode_json(row["topics"])), row["computed_at"]
    stored = store_topics(user=user, stats=stats, now=now)
    return stored.topics, stored.computed_at


def suggested_topics(
    *,
    user_id: int,
    stats: LearnerStats | None = None,
    now: datetime | None = None,
    limit: int = MAX_TOPICS,
    user: User | None = None,
) -> list[dict[str, Any]]:
    """The learner's suggestions, best first, each with ``evidence`` and ``computed_at``. Pass
    ``stats`` if already read (the dashboard)."""
    if user is None:
        user = User.objects.select_related("profile").get(pk=user_id)
    topics, computed_at = ranked_topics(user=user, stats=stats, now=now)
    hidden = dismissed_category_ids(user_id=user_id, now=now)
    slugs_hidden = _slugs_of(hidden, stats)
    shown = [t for t in topics if t["category_slug"] not in slugs_hidden][:limit]
    stamp = computed_at.isoformat() if isinstance(computed_at, datetime) else computed_at
    return [{**t, "computed_at": stamp} for t in shown]


def _slugs_of(category_ids: set[int], stats: LearnerStats | None) -> set[str]:
    if not category_ids:
        return set()
    if stats is not None:
        return {c.slug for c in stats.categories if c.category_id in category_ids}
    return {slug for cid, slug, _name, _order in active_category_rows() if cid in category_ids}


def personal_data(*, user_id: int) -> dict[str, Any]:
    """The user's topic dismissals and stored ranking, JSON-ready."""
    stored = StoredTopics.objects.filter(user_id=user_id).first()
    return {
        "stored_topics": (
            {"computed_at": stored.computed_at.isoformat(), "topics": stored.topics}
            if stored
            else None
        ),
        "topic_dismissals": [
            {
                "category_id": d.category_id,
                "category_slug": d.category.slug,
                "dismissed_at": d.dismissed_at.isoformat(),
            }
            for d in TopicDismissal.objects.filter(user_id=user_id)
            .select_related("category")
            .order_by("dismissed_at", "id")
        ],
    }
