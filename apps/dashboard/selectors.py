"""The dashboard: everything the candidate's home screen shows, in one round trip.

Cost does not grow with the learner's history: it reads only aggregates and summaries, in a
fixed number of queries (the progress per category, this week's and last week's study time,
active dismissals, the last practice and the last exam from their own apps); the active
categories and the featured resources are cached for everyone, and the last practice's category
names are taken from the active categories already read. Each of those queries is an ORM
queryset compiled once per process by its own app (``apps.core.sql.CompiledQuery``): the ORM
spent longer building them than PostgreSQL spends running them. Each reads a bounded number of
rows through an index, whatever the plan PostgreSQL caches for it (tests/dashboard/test_cost.py
runs every one under custom and generic plans for a short and a long history).

The rendered JSON bytes are cached per learner for ``DASHBOARD_CACHE_SECONDS`` and served as they
are. The learning record deletes the entry on every answer, dismissal and rebuild (see
``apps.analytics.caching``); an entry computed under another profile timezone is ignored, so a
timezone change shows at once. With the cache down the dashboard is computed, never failed.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from apps.accounts.models import User
from apps.analytics.caching import DASHBOARD, read_user_cache, write_user_cache
from apps.analytics.localtime import local_date, timezone_name_of, today_in, zone
from apps.analytics.selectors import LearnerStats, hours, learner_stats, weekly_study_seconds
from apps.core.observability.metrics import record_cache_lookup
from apps.readiness.services.predictions import readiness_summary
from apps.recommendations.ranking import next_action
from apps.recommendations.selectors import suggested_topics
from apps.resources import selectors as resource_selectors
from apps.study.selectors import TodayBlock, today_block

logger = logging.getLogger("apps.dashboard")

FEATURED_RESOURCES_LIMIT = 6


def featured_resources() -> list[dict[str, Any]]:
    """The resources app's featured resources in the contract's shape, at most six (shared and
    cached by the resources app, which clears them on every change)."""
    return resource_selectors.featured_resource_rows(limit=FEATURED_RESOURCES_LIMIT)


def _days_ago(moment: datetime | None, today: date, tz: ZoneInfo) -> int | None:
    if moment is None:
        return None
    return max(0, (today - local_date(moment, tz)).days)


def _last_practice(
    stats: LearnerStats, user_id: int, today: date, tz: ZoneInfo
) -> dict[str, Any] | None:
    try:
        from apps.practice.selectors import last_practice_summary
    except ImportError:  # practice mode not installed: nothing to show
        return None
    # The names of the active categories are in ``stats`` already: no second lookup.
    known = [(c.category_id, c.name) for c in stats.categories]
    summary = last_practice_summary(user_id=user_id, known_categories=known)
    if not summary:
        return None
    return {
        "days_ago": _days_ago(summary.get("at"), today, tz),
        "score_percent": summary.get("score_percent") or 0,
        "correct": summary.get("correct", 0),
        "incorrect": summary.get("incorrect", 0),
        "categories": list(summary.get("categories") or []),
    }


def _last_exam(user_id: int, today: date, tz: ZoneInfo) -> dict[str, Any] | None:
    try:
        from apps.exams.selectors import last_exam_summary
    except ImportError:  # exam mode not installed: nothing to show
        return None
    summary = last_exam_summary(user_id=user_id)
    if not summary:
        return None
    return {
        "days_ago": _days_ago(summary.get("submitted_at"), today, tz),
        "exam": summary.get("exam", ""),
        "score_percent": summary.get("score_percent") or 0,
        "time_spent_min": summary.get("time_spent_min", 0),
        "answered": summary.get("answered", 0),
    }


def dashboard_for(*, user: User, now: datetime | None = None) -> dict[str, Any]:
    """The dashboard document of api-contract.md, computed from the aggregates."""
    return _document(user, now or timezone.now(), timezone_name_of(user))


def _today(work: TodayBlock, topics: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        **work.as_json(),
        "next_action": next_action(
            reviews_due=work.reviews_due, new_remaining=work.new_remaining, topics=topics
        ),
    }


def _document(
    user: User, now: datetime, tz_name: str, today_work: TodayBlock | None = None
) -> dict[str, Any]:
    tz = zone(tz_name)
    today = today_in(tz, now)
    stats = learner_stats(user_id=user.pk)
    min_answered = settings.COMPLETION_MIN_ANSWERED
    min_score = settings.COMPLETION_MIN_SCORE_PERCENT
    completed = sum(
        1 for c in stats.categories if c.answered >= min_answered and c.score_percent >= min_score
    )
    this_week_sec, last_week_sec = weekly_study_seconds(user=user, now=now)
    topics = suggested_topics(user_id=user.pk, stats=stats, now=now, user=user)
    this_week, last_week = hours(this_week_sec), hours(last_week_sec)
    return {
        "overall_progress": {"completed": completed, "total": len(stats.categories)},
        "performance": {
            "avg_score_percent": stats.score_percent,
            "correct": stats.correct,
            "incorrect": stats.incorrect,
        },
        "study_time": {
            "hours_this_week": this_week,
            "delta_vs_last_week": round(this_week - last_week, 1),
        },
        "recent_activity": {
            "last_practice": _last_practice(stats, user.pk, today, tz),
            "last_exam": _last_exam(user.pk, today, tz),
        },
        "suggested_topics": [
            {
                "category": t["category"],
                "category_slug": t["category_slug"],
                "score_percent": t["score_percent"],
                "reason": t["reason"],
                "evidence": t["evidence"],
                "computed_at": t["computed_at"],
            }
            for t in topics
        ],
        "featured_resources": featured_resources(),
        # The day's reviews and new questions and the streak (apps/study), in the learner's day,
        # and the one most valuable thing to do now (apps/recommendations).
        "today": _today(today_work or today_block(user=user, now=now), topics),
        "readiness": readiness_summary(user=user),
    }


def dashboard_json(*, user: User) -> bytes:
    """The dashboard as JSON bytes, from the learner's cache entry when it is current.

    An entry is current for the timezone it was computed in and until its ``today`` block would
    change by the clock alone (the learner's next midnight, or the next card falling due,
    whichever is first): answers delete it, the clock only outdates it."""
    tz_name = timezone_name_of(user)
    now = timezone.now()
    found = read_user_cache(DASHBOARD, user.pk)
    if (
        isinstance(found.value, tuple)
        and len(found.value) == 3
        and found.value[0] == tz_name
        and now.timestamp() < found.value[1]
    ):
        record_cache_lookup(cache_name=DASHBOARD, hit=True)
        return bytes(found.value[2])
    record_cache_lookup(cache_name=DASHBOARD, hit=False)
    today_work = today_block(user=user, now=now)
    body = JSONRenderer().render(_document(user, now, tz_name, today_work))
    write_user_cache(
        DASHBOARD,
        user.pk,
        (tz_name, today_work.valid_until.timestamp(), body),
        generation=found.generation,
        timeout=settings.DASHBOARD_CACHE_SECONDS,
    )
    return body
