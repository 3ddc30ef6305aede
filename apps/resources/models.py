"""High-yield study resources: videos, seminars and articles (external links with metadata)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from apps.core.richtext import sanitize_html
from apps.taxonomy.models import Category


class ResourceKind(models.TextChoices):
    VIDEO = "video", "Video"
    SEMINAR = "seminar", "Seminar"
    ARTICLE = "article", "Article"


class ResourceQuerySet(models.QuerySet["Resource"]):
    def published(self) -> ResourceQuerySet:
        """Visible to candidates: published, not scheduled for later, and not filed under an
        inactive category."""
        from django.utils import timezone

        return (
            self.filter(is_published=True)
            .filter(Q(published_at__isnull=True) | Q(published_at__lte=timezone.now()))
            .exclude(category__is_active=False)
        )


class Resource(models.Model):
    kind = models.CharField(max_length=8, choices=ResourceKind.choices)
    title = models.CharField(max_length=200)
    author = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    duration_sec = models.PositiveIntegerField(null=True, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="resources"
    )
    url = models.URLField(max_length=500)
    thumbnail_url = models.URLField(max_length=500, blank=True)
    captions_url = models.URLField(max_length=500, blank=True)
    alt_text = models.CharField(max_length=300, blank=True)
    is_featured = models.BooleanField(default=False)
    is_published = models.BooleanField(default=True)
    published_at = models.DateTimeField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        ordering = ("order", "-published_at", "id")
        indexes = [
            models.Index(
                fields=("is_published", "is_featured"), name="resource_published_featured"
            ),
            models.Index(fields=("kind", "is_published"), name="resource_kind_published"),
        ]
        constraints = [
            models.UniqueConstraint(fields=("kind", "title"), name="resource_kind_title_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.description = sanitize_html(self.description)
        super().save(*args, **kwargs)
