"""Suggested topics are computed on read from the learner's aggregates; only the learner's
dismissals are stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.taxonomy.models import Category


class TopicDismissal(models.Model):
    """The learner asked not to be offered this category for a while
    (``RECOMMENDATION_DISMISS_DAYS`` from ``dismissed_at``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topic_dismissals"
    )
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    dismissed_at = models.DateTimeField()

    class Meta:
        ordering = ("-dismissed_at",)
        constraints = [
            models.UniqueConstraint(fields=("user", "category"), name="topicdismissal_once"),
        ]
        indexes = [models.Index(fields=("dismissed_at",), name="topicdismissal_time")]

    def __str__(self) -> str:
        return f"{self.user_id} dismissed {self.category_id}"
