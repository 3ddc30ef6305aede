"""The dismissals' compiled query, run beside the queryset it stands for on the same data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.recommendations.models import TopicDismissal
from apps.recommendations.selectors import DISMISSED, dismissal_cutoff, dismissed_category_ids
from tests.accounts.factories import UserFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_dismissed_is_its_queryset(settings: Any) -> None:
    settings.RECOMMENDATION_DISMISS_DAYS = 7
    learner, other = UserFactory(), UserFactory()
    categories = [CategoryFactory(slug=f"topic-{i}", name=f"Topic {i}", order=i) for i in range(4)]
    cutoff = dismissal_cutoff(NOW)
    for category, at in zip(
        categories,
        [NOW, cutoff + timedelta(seconds=1), cutoff, cutoff - timedelta(days=30)],
        strict=True,
    ):
        TopicDismissal.objects.create(user=learner, category=category, dismissed_at=at)
    TopicDismissal.objects.create(user=other, category=categories[3], dismissed_at=NOW)

    for who in (learner, other, UserFactory()):
        compiled = DISMISSED.fetch(user_id=who.pk, cutoff=cutoff)
        orm = list(DISMISSED.queryset(user_id=who.pk, cutoff=cutoff))
        assert sorted(r["category_id"] for r in compiled) == sorted(r["category_id"] for r in orm)
        assert dismissed_category_ids(user_id=who.pk, now=NOW) == set(
            TopicDismissal.objects.filter(user=who, dismissed_at__gt=cutoff).values_list(
                "category_id", flat=True
            )
        )
    # Only the two dismissals after the cutoff (one at the cutoff itself has expired).
    assert dismissed_category_ids(user_id=learner.pk, now=NOW) == {
        categories[0].pk,
        categories[1].pk,
    }
