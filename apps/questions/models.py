"""The question bank. Integrity rules that span rows (exactly one correct option for a single
best answer, at least two options) are enforced by ``apps.questions.services`` on every write
path, since they cannot be single-row database constraints."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.richtext import sanitize_html
from apps.questions.normalisation import stem_fingerprint
from apps.taxonomy.models import Category, Subcategory, Tag


class QuestionType(models.TextChoices):
    SINGLE = "single", "Single best answer"
    MULTI = "multi", "Multiple response"


class QuestionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class QuestionQuerySet(models.QuerySet["Question"]):
    def published(self) -> QuestionQuerySet:
        """What a candidate may see: published, in an active category. The one home of the
        rule: written-out statements embed this queryset compiled (apps/core/sql.py), and
        :attr:`Question.is_published` is its in-memory twin (tested against it)."""
        return self.filter(status=QuestionStatus.PUBLISHED, category__is_active=True)


class Question(models.Model):
    stem = models.TextField()
    stem_normalised = models.CharField(max_length=64, db_index=True, editable=False, default="")
    type = models.CharField(max_length=8, choices=QuestionType.choices, default=QuestionType.SINGLE)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="questions")
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.PROTECT, null=True, blank=True, related_name="questions"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions")
    difficulty = models.PositiveSmallIntegerField(default=3)
    explanation = models.TextField(blank=True)
    reference = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=QuestionStatus.choices, default=QuestionStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    is_synthetic = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Anonymous answer statistics ("how many candidates got this right"); they survive account
    # deletion so that a question's difficulty does not change when a user leaves.
    times_answered = models.PositiveIntegerField(default=0)
    times_correct = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=("status", "category"), name="question_status_category")]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__gte=1) & Q(difficulty__lte=5),
                name="question_difficulty_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.stem[:60]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every save (services, admin, shell) stores clean rich text and a fresh fingerprint.
        self.stem = sanitize_html(self.stem)
        self.explanation = sanitize_html(self.explanation)
        self.stem_normalised = stem_fingerprint(self.stem)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "stem" in update_fields:
            kwargs["update_fields"] = {*update_fields, "stem_normalised"}
        super().save(*args, **kwargs)

    @property
    def has_been_answered(self) -> bool:
        return self.times_answered > 0

    @property
    def is_published(self) -> bool:
        """:meth:`QuestionQuerySet.published` for a question already in memory (reads
        ``category``: load it with ``select_related``)."""
        return self.status == QuestionStatus.PUBLISHED and self.category.is_active


class AnswerOption(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    text = models.TextField()
    is_correct = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("order", "id")

    def __str__(self) -> str:
        return self.text[:60]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.text = sanitize_html(self.text)
        super().save(*args, **kwargs)


class QuestionVersion(models.Model):
    """What a question said at one version number: stem, explanation, type, options and key.

    Attempts keep the version they were answered at, so a review can show the key and the
    explanation the candidate was marked against after an editor changes them, and item
    analysis can keep statistics apart per version. Rows are written only by
    :func:`apps.questions.services.versions.snapshot_question` and never updated: a change to
    the content is a new row with the next number."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    stem = models.TextField()
    explanation = models.TextField(blank=True)
    type = models.CharField(max_length=8, choices=QuestionType.choices)
    # [{"id", "text", "is_correct", "order"}] in display order; ids are AnswerOption ids,
    # which attempts store, so an option deleted since still has its text here.
    options = models.JSONField(default=list)
    correct_option_ids = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("question_id", "number")
        constraints = [
            models.UniqueConstraint(
                fields=("question", "number"), name="question_version_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.question_id} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("A question version is never changed; snapshot a new one.")
        super().save(*args, **kwargs)


class MediaKind(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"


class QuestionMedia(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="media")
    url = models.URLField(max_length=500)
    kind = models.CharField(max_length=8, choices=MediaKind.choices, default=MediaKind.IMAGE)
    alt_text = models.CharField(max_length=300, blank=True)
    caption = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("order", "id")
        verbose_name_plural = "question media"

    def __str__(self) -> str:
        return self.alt_text or self.url


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSON = "json", "JSON"
    XLSX = "xlsx", "Excel (XLSX)"


class ImportJob(models.Model):
    """One uploaded file of questions. The file's bytes are kept on the job so that any worker
    can process it; ``report`` holds one entry per data row:
    ``{"row": n, "status": "created"|"valid"|"duplicate"|"invalid", "errors": [...]}``."""

    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=4, choices=ImportFormat.choices)
    dry_run = models.BooleanField(default=False)
    default_status = models.CharField(
        max_length=10, choices=QuestionStatus.choices, default=QuestionStatus.DRAFT
    )
    content = models.BinaryField(editable=False)
    size_bytes = models.PositiveIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"import #{self.pk} {self.filename} ({self.status})"
