"""Suggested topics are computed on read (see ``selectors``); the only writes are a learner's
dismissals and their expiry."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.analytics.services import invalidate_user_caches, lock_learners
from apps.core.exceptions import ValidationFailed
from apps.recommendations.models import TopicDismissal
from apps.recommendations.selectors import dismissal_cutoff
from apps.taxonomy.selectors import category_by_slug


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
