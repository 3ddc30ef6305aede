"""Recommendations: a learner's dismissals, their ranked topics as last computed, and the
nightly runs that compute them."""

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


class StoredTopics(models.Model):
    """A learner's recommendations as last computed: every active category ranked by expected
    marks gained per hour, each with its reason and the evidence behind it (``topics``).

    Written by the nightly job for active learners and on read when older than the learner's
    latest answer by more than ``RECOMMENDATION_STALE_SECONDS``. ``inputs_digest`` fingerprints
    what the ranking was computed from, so a run over unchanged inputs writes nothing."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    computed_at = models.DateTimeField()
    basis_answered_at = models.DateTimeField(null=True, blank=True)
    inputs_digest = models.CharField(max_length=64)
    topics = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"recommendations of {self.user_id} at {self.computed_at:%Y-%m-%d %H:%M}"


class RecommendationRun(models.Model):
    """One nightly computation over active learners, in batches by user id. An unfinished run
    is resumed from ``cursor`` by the next one, so a killed worker loses at most a batch."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    cursor = models.BigIntegerField(default=0)
    learners = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"recommendation run {self.pk}"
