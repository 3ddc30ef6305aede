"""The writes of recommendations: a learner's dismissals and their expiry, the stored ranking of
a learner (on read when stale, see ``selectors``) and the nightly run over active learners."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.selectors import LearnerStats, learner_ids_active_between, learner_stats
from apps.analytics.services import invalidate_user_caches, lock_learners
from apps.core.exceptions import ValidationFailed
from apps.recommendations.models import RecommendationRun, StoredTopics, TopicDismissal
from apps.recommendations.ranking import digest, rank_categories
from apps.recommendations.selectors import dismissal_cutoff
from apps.taxonomy.selectors import category_by_slug

logger = logging.getLogger("apps.recommendations")

COMPUTE_TASK = "recommendations.compute_all"


@transaction.atomic
def dismiss_topic(*, user_id: int, category_slug: str, now: datetime | None = None) -> None:
    """Hides the category from the learner's suggestions for ``RECOMMENDATION_DISMISS_DAYS``
    days from now (dismissing again restarts the period). Unknown or inactive slugs are a
    validation error. The learner's cached dashboard is deleted once committed."""
    category = category_by_slug(slug=category_slug, active_only=True)
    if category is None:
        raise ValidationFailed(
            "No such category.", fields={"category_slug": ["No active category has this slug."]}
        )
    lock_learners(user_ids=[user_id])  # moves the learner's version: cached views go stale
    TopicDismissal.objects.update_or_create(
        user_id=user_id, category=category, defaults={"dismissed_at": now or timezone.now()}
    )
    transaction.on_commit(lambda: invalidate_user_caches(user_ids=[user_id]))


def purge_expired_dismissals(*, now: datetime | None = None) -> int:
    """Deletes dismissals whose period is over; returns how many."""
    deleted, _ = TopicDismissal.objects.filter(dismissed_at__lte=dismissal_cutoff(now)).delete()
    return deleted


def store_topics(
    *, user: User, stats: LearnerStats | None = None, now: datetime | None = None
) -> StoredTopics:
    """Ranks the learner's categories and stores the ranking. A ranking that says what the stored
    one says (same digest) is not written again: with no answer since, nothing is written at
    all; after answers only ``computed_at`` moves on, so reads know it is current."""
    now = now or timezone.now()
    if stats is None:
        stats = learner_stats(user_id=user.pk)
    topics = rank_categories(user=user, stats=stats, now=now)
    fingerprint = digest(topics)
    answered = [c.last_practiced_at for c in stats.categories if c.last_practiced_at]
    basis = max(answered) if answered else None
    stored = StoredTopics.objects.filter(user_id=user.pk).first()
    if stored is not None and stored.inputs_digest == fingerprint:
        if stored.basis_answered_at == basis:
            return stored
        StoredTopics.objects.filter(pk=stored.pk).update(computed_at=now, basis_answered_at=basis)
        stored.computed_at, stored.basis_answered_at = now, basis
        return stored
    stored, _ = StoredTopics.objects.update_or_create(
        user_id=user.pk,
        defaults={
            "computed_at": now,
            "basis_answered_at": basis,
            "inputs_digest": fingerprint,
            "topics": topics,
        },
    )
    return stored


def compute_recommendations(
    *, now: datetime | None = None, progress: Callable[[str], None] | None = None
) -> RecommendationRun:
    """Ranks every learner active in the last ``RECOMMENDATION_ACTIVE_DAYS`` days, in batches by
    user id. Resumes an unfinished run from its cursor (a killed worker loses at most a batch);
    learners whose ranking did not change are not rewritten (their stored ranking's digest is
    the same and no answer since). Progress goes to the log per batch."""
    now = now or timezone.now()
    say = progress or (lambda message: None)
    started = time.monotonic()
    run = RecommendationRun.objects.filter(finished_at__isnull=True).order_by("-started_at").first()
    if run is None:
        run = RecommendationRun.objects.create(started_at=now)
    today = timezone.localdate(now)
    active = learner_ids_active_between(
        first_day=today - timedelta(days=settings.RECOMMENDATION_ACTIVE_DAYS), last_day=today
    )
    batch_size = settings.RECOMMENDATION_BATCH
    while True:
        ids = list(
            active.filter(user_id__gt=run.cursor)
            .order_by("user_id")
            .values_list("user_id", flat=True)
            .distinct()[:batch_size]
        )
        if not ids:
            break
        users = User.objects.select_related("profile").in_bulk(ids)
        stored = dict(
            StoredTopics.objects.filter(user_id__in=ids).values_list("user_id", "inputs_digest")
        )
        written = unchanged = 0
        for user_id in ids:
            user = users.get(user_id)
            if user is None or not user.is_active:
                continue
            before = stored.get(user_id)
            after = store_topics(user=user, now=now).inputs_digest
            if before == after:  # nothing rewritten
                unchanged += 1
            else:
                written += 1
        RecommendationRun.objects.filter(pk=run.pk).update(
            cursor=ids[-1],
            learners=run.learners + len(ids),
            written=run.written + written,
            unchanged=run.unchanged + unchanged,
        )
        run.refresh_from_db()
        say(f"recommendations: {run.learners} learners ({run.written} changed)")
        logger.info(
            "recommendations batch",
            extra={"run_id": run.pk, "learners": run.learners, "written": run.written},
        )
    run.finished_at = timezone.now()
    run.seconds = run.seconds + (time.monotonic() - started)
    run.save(update_fields=["finished_at", "seconds"])
    return run
