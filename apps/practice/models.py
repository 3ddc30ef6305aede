"""Practice mode: untimed sessions with instant feedback, flags and private notes on questions,
candidates' problem reports (the editors' queue) and each candidate's spaced-repetition cards."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.questions.models import Question
from apps.taxonomy.models import Category


class PracticeMode(models.TextChoices):
    ALL = "all", "All questions"
    UNANSWERED = "unanswered", "Only questions never answered in practice"
    INCORRECT = "incorrect", "Only questions last answered wrongly"
    FLAGGED = "flagged", "Only flagged questions"
    DUE = "due", "Only questions due for review (spaced repetition), most overdue first"
    TODAY = "today", "Today's study: due reviews, then new questions, within the daily limits"


class PracticeSession(models.Model):
    """One practice round. ``question_ids`` is the drawn, ordered question set; ``seed`` is the
    random seed it was drawn with, so that the same pool and seed reproduce the same draw.

    ``answered``, ``correct``, ``time_spent_sec``, ``category_ids`` and ``last_activity_at`` are
    denormalised from the attempts (updated in the answering transaction) so that histories and
    the dashboard read one row per session."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_sessions"
    )
    seed = models.BigIntegerField()
    # {"categories": [slug], "subcategories": [slug], "include_explanations": bool, "mode": str}
    config = models.JSONField(default=dict)
    question_ids = models.JSONField(default=list)
    requested_count = models.PositiveIntegerField()
    available_count = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    time_spent_sec = models.PositiveIntegerField(default=0)
    # Categories of the answered questions, in the order they were first answered.
    category_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("user", "-created_at"), name="practice_session_user_created"),
            models.Index(
                fields=("user", "-last_activity_at"),
                name="practice_session_user_activity",
                condition=Q(answered__gt=0),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(correct__lte=F("answered")),
                name="practice_session_correct_lte_answered",
            ),
        ]

    def __str__(self) -> str:
        return f"practice #{self.pk} ({self.user_id})"

    @property
    def question_count(self) -> int:
        return len(self.question_ids)

    @property
    def include_explanations(self) -> bool:
        return bool(self.config.get("include_explanations", True))

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


class PracticeAttempt(models.Model):
    """One answered question in a session. What was answered is kept as it was: the option ids,
    the correctness and the question's version at that moment, and the category it was in."""

    session = models.ForeignKey(PracticeSession, on_delete=models.CASCADE, related_name="attempts")
    # PROTECT: an answered question is retired, never deleted.
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="practice_attempts"
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    selected_option_ids = models.JSONField(default=list)
    is_correct = models.BooleanField()
    question_version = models.PositiveIntegerField()
    # As reported by the client; statistics count at most ANALYTICS_ANSWER_TIME_CAP_SEC of it.
    time_spent_sec = models.PositiveIntegerField(default=0)
    counted_time_sec = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("answered_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("session", "question"), name="practice_attempt_once_per_session"
            ),
            models.CheckConstraint(
                condition=Q(counted_time_sec__lte=F("time_spent_sec")),
                name="practice_attempt_counted_lte_spent",
            ),
        ]
        indexes = [
            models.Index(fields=("question", "answered_at"), name="practice_attempt_question_at"),
        ]

    def __str__(self) -> str:
        return f"session {self.session_id} q{self.question_id}"


class QuestionFlag(models.Model):
    """A candidate's flag on a question and their private note on it (one row per pair)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="question_flags"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="flags")
    is_flagged = models.BooleanField(default=True)
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-updated_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("user", "question"), name="question_flag_once_per_user"
            ),
        ]
        indexes = [
            models.Index(fields=("user", "is_flagged"), name="question_flag_user_flagged"),
        ]

    def __str__(self) -> str:
        return f"flag {self.user_id} q{self.question_id}"


class ReviewCard(models.Model):
    """A candidate's spaced-repetition card for one question, scheduled by FSRS.

    ``state`` is the ``fsrs.Card.to_dict()`` of the card, the scheduler's whole memory of it;
    ``due``, ``last_review_at``, ``reps`` and ``lapses`` are kept beside it so that the queue is
    read with plain indexed queries. ``due`` always equals the due time in ``state``.
    ``lapses`` counts wrong answers given once the card had been learned (FSRS's Review state),
    as Anki counts them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards"
    )
    # PROTECT like the attempts: an answered question is retired, never deleted.
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="review_cards")
    state = models.JSONField(default=dict)
    due = models.DateTimeField()
    last_review_at = models.DateTimeField(null=True, blank=True)
    reps = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("due", "id")
        constraints = [
            models.UniqueConstraint(fields=("user", "question"), name="review_card_once_per_user"),
            models.CheckConstraint(
                condition=Q(lapses__lte=F("reps")), name="review_card_lapses_lte_reps"
            ),
        ]
        indexes = [
            models.Index(fields=("user", "due"), name="review_card_user_due"),
        ]

    def __str__(self) -> str:
        return f"card {self.user_id} q{self.question_id} due {self.due:%Y-%m-%d %H:%M}"


class SchedulerParameters(models.Model):
    """A candidate's own FSRS weights, fitted from their practice reviews once they have enough
    (:func:`apps.practice.services.fit_scheduler_parameters`, nightly). Without a row, or with a
    row whose weights do not fit the installed FSRS version, the library's defaults apply."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scheduler_parameters"
    )
    parameters = models.JSONField(default=list)
    # How many reviews the fit learned from, so that a candidate is refitted only with more.
    review_count = models.PositiveIntegerField(default=0)
    fitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "scheduler parameters"

    def __str__(self) -> str:
        return f"FSRS weights of {self.user_id} ({self.review_count} reviews)"


class ReportReason(models.TextChoices):
    INCORRECT_ANSWER = "incorrect_answer", "The marked answer is wrong"
    UNCLEAR = "unclear", "The question is unclear or ambiguous"
    TYPO = "typo", "Typo or formatting problem"
    OUTDATED = "outdated", "Outdated guidance"
    BROKEN_MEDIA = "broken_media", "An image or video does not load"
    OTHER = "other", "Something else"


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class QuestionReport(models.Model):
    """A candidate's report of a problem with a question; editors work through the open ones
    in the admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="question_reports",
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=ReportReason.choices)
    message = models.TextField(blank=True, max_length=2000)
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("status", "-created_at"), name="question_report_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("user", "question"),
                condition=Q(status=ReportStatus.OPEN),
                name="question_report_one_open_per_user",
            ),
            models.CheckConstraint(
                condition=Q(status=ReportStatus.OPEN, resolved_at__isnull=True)
                | Q(status=ReportStatus.RESOLVED, resolved_at__isnull=False),
                name="question_report_resolved_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"report #{self.pk} q{self.question_id} ({self.status})"
