"""The learning record: one immutable fact per answered question, and the aggregates derived
from it.

``AnswerFact`` and ``HeartbeatLog`` are the raw record; ``DailyActivity`` and
``CategoryProgress`` are denormalised aggregates that ``apps.analytics.services`` keeps in step
incrementally and can rebuild exactly from the raw record (``recompute_aggregates``).

A fact stores the calendar day (``local_date``) on which it happened in the user's timezone *at
that moment*. Days are therefore a diary: changing one's timezone later does not move past
answers to other days, and a rebuild gives exactly what the incremental path produced.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.taxonomy.models import Category


class AnswerSource(models.TextChoices):
    PRACTICE = "practice", "Practice"
    EXAM = "exam", "Exam"


class AnswerFact(models.Model):
    """One answered question. Written once by ``record_answers``; never updated.

    ``question_id`` is a plain integer (no foreign key) so that the record outlives an edited or
    deleted question. A question appears at most once per practice or exam session.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answer_facts"
    )
    question_id = models.BigIntegerField()
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=AnswerSource.choices)
    source_id = models.BigIntegerField()
    is_correct = models.BooleanField()
    time_spent_sec = models.PositiveIntegerField(help_text="As reported by the client.")
    counted_time_sec = models.PositiveIntegerField(
        help_text="Study time credited: the reported time, capped (ANALYTICS_ANSWER_TIME_CAP_SEC)."
    )
    answered_at = models.DateTimeField()
    local_date = models.DateField(help_text="The day in the user's timezone when answered.")
    question_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The question's version when answered (null: unknown)."
    )

    class Meta:
        ordering = ("-answered_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("user", "source", "source_id", "question_id"),
                name="answerfact_once_per_session",
            ),
        ]
        indexes = [
            models.Index(fields=("user", "answered_at"), name="answerfact_user_time"),
            # item analysis reads one question version's answers at a time
            models.Index(fields=("question_id", "question_version"), name="answerfact_question"),
            # "has this learner answered this question before?" (first attempts, readiness and
            # the study engine's new questions)
            models.Index(fields=("user", "question_id"), name="answerfact_user_question"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.source}#{self.source_id}:q{self.question_id}"


class HeartbeatLog(models.Model):
    """Reading time credited by one heartbeat (already bounded; see ``record_heartbeat``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="heartbeats"
    )
    at = models.DateTimeField()
    local_date = models.DateField()
    seconds = models.PositiveIntegerField()

    class Meta:
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=("user", "at"), name="heartbeat_user_time")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.at:%Y-%m-%d %H:%M}: {self.seconds}s"


class LearnerState(models.Model):
    """One row per learner: the lock that serialises writes to one learner's aggregates (answer
    batches, heartbeats and a rebuild), and the time of the last heartbeat."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="learner_state",
    )
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    touched_at = models.DateTimeField(null=True, blank=True)
    # Moves forward with every write to the learner's record; cached views are stamped with it.
    version = models.BigIntegerField(default=0, db_default=0)

    def __str__(self) -> str:
        return str(self.user_id)


class DailyActivity(models.Model):
    """Per learner per day (the learner's own calendar day)."""

    # No index of its own: the ``(user, date)`` unique index serves every read by learner. A
    # second index on ``user`` alone let PostgreSQL read a learner's whole history (a year is
    # 365 rows) and filter it for a week's range; with one index every read of a range of days
    # costs the days in the range, however long the history (tests/dashboard/test_cost.py).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="daily_activity",
        db_index=False,
    )
    date = models.DateField()
    answered = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    time_spent_sec = models.PositiveIntegerField(
        default=0, help_text="Sum of the counted (capped) answer times."
    )
    reading_sec = models.PositiveIntegerField(
        default=0, help_text="Reading time credited by heartbeats."
    )

    class Meta:
        ordering = ("-date",)
        verbose_name_plural = "daily activity"
        constraints = [
            models.UniqueConstraint(fields=("user", "date"), name="dailyactivity_user_date"),
            models.CheckConstraint(
                condition=Q(correct__lte=models.F("answered")), name="dailyactivity_correct_le"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.date}: {self.correct}/{self.answered}"

    @property
    def study_sec(self) -> int:
        return self.time_spent_sec + self.reading_sec


class CategoryProgress(models.Model):
    """Per learner per category."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="category_progress"
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    answered = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    last_practiced_at = models.DateTimeField()

    class Meta:
        ordering = ("category_id",)
        verbose_name_plural = "category progress"
        constraints = [
            models.UniqueConstraint(
                fields=("user", "category"), name="categoryprogress_user_category"
            ),
            models.CheckConstraint(
                condition=Q(correct__lte=models.F("answered")), name="categoryprogress_correct_le"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.category_id}: {self.correct}/{self.answered}"


class ArchivedActivity(models.Model):
    """What the learner's answers in archived months added to a day, beyond the first attempts
    kept in the log (``manage.py archive_history``): the rebuild adds it back, so archiving never
    changes an aggregate."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    date = models.DateField()
    answered = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    time_spent_sec = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "archived activity"
        constraints = [
            models.UniqueConstraint(fields=("user", "date"), name="archivedactivity_user_date"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.date}: {self.correct}/{self.answered} archived"


class ArchivedProgress(models.Model):
    """As :class:`ArchivedActivity`, per category: the archived answers' counts and the latest of
    their times."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    answered = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    last_answered_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "archived progress"
        constraints = [
            models.UniqueConstraint(
                fields=("user", "category"), name="archivedprogress_user_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.category_id}: {self.correct}/{self.answered} archived"


class ArchivedMonth(models.Model):
    """One partition of the answer log archived: what left the database and where it went."""

    partition = models.CharField(max_length=63, unique=True)
    archived_at = models.DateTimeField()
    rows_before = models.PositiveBigIntegerField()
    rows_kept = models.PositiveBigIntegerField(help_text="First attempts, kept in the log.")
    rows_archived = models.PositiveBigIntegerField()
    file = models.CharField(max_length=500, help_text="The anonymised archive file.")
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ("partition",)

    def __str__(self) -> str:
        return f"{self.partition}: {self.rows_archived} archived"
