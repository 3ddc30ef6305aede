"""Rebuilding the aggregates from the raw record (answer facts and heartbeat log)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q, Sum

from apps.analytics.caching import invalidate_user_caches
from apps.analytics.models import (
    AnswerFact,
    ArchivedActivity,
    ArchivedProgress,
    CategoryProgress,
    DailyActivity,
    HeartbeatLog,
    LearnerState,
)
from apps.analytics.services.recording import lock_learners

_DAY_FIELDS = ("answered", "correct", "time_spent_sec", "reading_sec")
_CATEGORY_FIELDS = ("answered", "correct", "last_practiced_at")


@dataclass
class RecomputeReport:
    """What a rebuild changed. A rebuild of consistent aggregates changes nothing."""

    learners: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted

    def add(self, other: RecomputeReport) -> None:
        self.learners += other.learners
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted


def learner_ids() -> list[int]:
    """Every user with a learning record or aggregates, in id order."""
    ids: set[int] = set(LearnerState.objects.values_list("user_id", flat=True))
    ids.update(DailyActivity.objects.values_list("user_id", flat=True).distinct())
    ids.update(CategoryProgress.objects.values_list("user_id", flat=True).distinct())
    return sorted(ids)


def recompute_aggregates(
    *,
    user_id: int | None = None,
    user_ids: list[int] | None = None,
    progress: Callable[[int], object] | None = None,
) -> RecomputeReport:
    """Rebuilds ``DailyActivity`` and ``CategoryProgress`` from the raw record, for one user,
    a list of users, or (neither given) everyone.

    The result equals what the incremental path (``record_answers``, ``record_heartbeat``)
    produced; rows that already hold the right values are not touched, so running it twice
    changes nothing. Each learner is rebuilt in its own transaction under the learner lock, so
    answers recorded meanwhile are neither lost nor counted twice. ``progress(1)`` is called
    after each learner (a progress bar's ``update``).
    """
    if user_id is not None:
        ids = [user_id]
    elif user_ids is not None:
        ids = sorted(set(user_ids))
    else:
        ids = learner_ids()
    report = RecomputeReport()
    for uid in ids:
        with transaction.atomic():
            lock_learners(user_ids=[uid])
            one = _rebuild_learner(uid)
            if one.changed:
                transaction.on_commit(partial(invalidate_user_caches, user_ids=[uid]))
        report.add(one)
        if progress is not None:
            progress(1)
    return report


def _rebuild_learner(user_id: int) -> RecomputeReport:
    report = RecomputeReport(learners=1)
    facts = AnswerFact.objects.filter(user_id=user_id)

    expected_days: dict[date, dict[str, Any]] = {}
    by_day = facts.values_list("local_date").annotate(
        n=Count("id"), ok=Count("id", filter=Q(is_correct=True)), t=Sum("counted_time_sec")
    )
    for day, answered, correct, seconds in by_day:
        expected_days[day] = {
            "answered": answered,
            "correct": correct,
            "time_spent_sec": seconds or 0,
            "reading_sec": 0,
        }
    # Answers of archived months beyond the first attempts kept (manage.py archive_history).
    for day, answered, correct, seconds in ArchivedActivity.objects.filter(
        user_id=user_id
    ).values_list("date", "answered", "correct", "time_spent_sec"):
        expected = expected_days.setdefault(
            day, {"answered": 0, "correct": 0, "time_spent_sec": 0, "reading_sec": 0}
        )
        expected["answered"] += answered
        expected["correct"] += correct
        expected["time_spent_sec"] += seconds
    reading = HeartbeatLog.objects.filter(user_id=user_id).values_list("local_date")
    for day, seconds in reading.annotate(s=Sum("seconds")):
        expected = expected_days.setdefault(day, {"answered": 0, "correct": 0, "time_spent_sec": 0})
        expected["reading_sec"] = seconds or 0
    _sync(
        report,
        model=DailyActivity,
        user_id=user_id,
        key="date",
        fields=_DAY_FIELDS,
        expected=expected_days,
    )

    expected_categories: dict[int, dict[str, Any]] = {}
    by_category = facts.values_list("category_id").annotate(
        n=Count("id"), ok=Count("id", filter=Q(is_correct=True)), last=Max("answered_at")
    )
    for category_id, answered, correct, last in by_category:
        expected_categories[category_id] = {
            "answered": answered,
            "correct": correct,
            "last_practiced_at": last,
        }
    for category_id, answered, correct, last in ArchivedProgress.objects.filter(
        user_id=user_id
    ).values_list("category_id", "answered", "correct", "last_answered_at"):
        expected = expected_categories.setdefault(
            category_id, {"answered": 0, "correct": 0, "last_practiced_at": last}
        )
        expected["answered"] += answered
        expected["correct"] += correct
        expected["last_practiced_at"] = max(expected["last_practiced_at"], last)
    _sync(
        report,
        model=CategoryProgress,
        user_id=user_id,
        key="category_id",
        fields=_CATEGORY_FIELDS,
        expected=expected_categories,
    )
    return report


def _sync(
    report: RecomputeReport,
    *,
    model: type[DailyActivity] | type[CategoryProgress],
    user_id: int,
    key: str,
    fields: tuple[str, ...],
    expected: dict[Any, dict[str, Any]],
) -> None:
    """Makes the learner's rows of ``model`` equal ``expected`` ({key: {field: value}}),
    creating, updating and deleting only what differs."""
    existing = {getattr(row, key): row for row in model.objects.filter(user_id=user_id)}
    stale = [row.pk for k, row in existing.items() if k not in expected]
    changed: list[Any] = []
    created: list[Any] = []
    for k, values in expected.items():
        row = existing.get(k)
        if row is None:
            created.append(model(user_id=user_id, **{key: k}, **values))
            continue
        if any(getattr(row, f) != values[f] for f in fields):
            for f in fields:
                setattr(row, f, values[f])
            changed.append(row)
    if stale:
        model.objects.filter(pk__in=stale).delete()
    if changed:
        model.objects.bulk_update(changed, list(fields))
    if created:
        model.objects.bulk_create(created)
    report.created += len(created)
    report.updated += len(changed)
    report.deleted += len(stale)
