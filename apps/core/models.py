"""Platform tables shared by every app."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """A Celery task that could not be published (broker down); ``drain_outbox`` retries it."""

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=("next_attempt_at", "id"), name="core_outbox_due")]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"
