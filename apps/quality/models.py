"""Item quality's own rows: statistics per question version and the re-key runs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone

from apps.questions.models import Question


class ItemFlag(models.TextChoices):
    """What item analysis can say is wrong with a version. ``reported`` is not stored: it is
    computed from the open candidate reports when the quality queue is read."""

    MISKEY_SUSPECTED = "miskey_suspected", "Mis-key suspected"
    TOO_HARD = "too_hard", "Too hard"
    TOO_EASY = "too_easy", "Too easy"
    LOW_DISCRIMINATION = "low_discrimination", "Low or negative discrimination"


class ItemStatistics(models.Model):
    """Classical item analysis of one question version, from candidates' first attempts.

    Rewritten whole by :func:`apps.quality.services.analysis.analyse_items` (nightly and on
    demand), never edited by hand. Statistics that need more answers than there are stay null
    (``facility`` with no answers, ``discrimination`` without variance), and a flag is raised
    only once ``n`` reaches that flag's minimum (settings ``QUALITY_MIN_N_*``).

    ``options`` holds, per option of the version in display order: ``option_id``, ``is_key``,
    ``picked_percent`` (0-100), ``by_quintile`` (percent picking it in each fifth of the
    candidates by rest score, lowest ability first) and ``point_biserial`` (picking it against
    the rest score; null without variance).
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="item_statistics")
    version = models.PositiveIntegerField()
    n = models.PositiveIntegerField(help_text="Candidates whose first attempt was on this version.")
    facility = models.FloatField(null=True, blank=True, help_text="Proportion correct, 0-1.")
    discrimination = models.FloatField(
        null=True, blank=True, help_text="Point-biserial of the item against the rest score."
    )
    upper_lower_index = models.FloatField(
        null=True, blank=True, help_text="Facility in the top 27% minus in the bottom 27%."
    )
    median_time_sec = models.FloatField(null=True, blank=True)
    options = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    # A plain id: options are rewritten when a question is edited, the analysis stays.
    suspected_option_id = models.BigIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("question_id", "-version")
        verbose_name_plural = "item statistics"
        constraints = [
            models.UniqueConstraint(
                fields=("question", "version"), name="itemstatistics_once_per_version"
            ),
        ]
        indexes = [GinIndex(fields=("flags",), name="itemstatistics_flags")]

    def __str__(self) -> str:
        return f"q{self.question_id} v{self.version}: n={self.n}"


class RekeyStatus(models.TextChoices):
    REGRADING = "regrading", "Regrading"
    DONE = "done", "Done"


class RekeyRun(models.Model):
    """One re-key of a question and the regrading it owes: from ``from_version`` (the key
    ``old_correct_option_ids``) to ``to_version`` (``new_correct_option_ids``).

    Written only by :mod:`apps.quality.services.regrade`. While a run is ``regrading`` the
    question takes no other re-key (the partial unique constraint): runs of one question never
    overlap, so a row regraded by one run cannot slip past the next. ``regraded_versions`` are
    the version numbers whose key was the old key: answers graded on any of them are regraded
    (and moved to ``to_version``). ``key_changed_at`` is the database's clock just after the new
    key committed: every transaction that could have read the old key began before it, and the
    run is finished only once none of those is still open. The counts grow batch by batch in the
    batch's own transaction; ``affected`` holds, per candidate whose grade changed, what changed
    (their notification is written from it when the run finishes)."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="rekey_runs")
    from_version = models.PositiveIntegerField()
    to_version = models.PositiveIntegerField()
    old_correct_option_ids = models.JSONField(default=list)
    new_correct_option_ids = models.JSONField(default=list)
    regraded_versions = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=RekeyStatus.choices, default=RekeyStatus.REGRADING
    )
    # Null only between the new key's commit and the first read of the database clock after it.
    key_changed_at = models.DateTimeField(null=True, blank=True)
    practice_attempts = models.PositiveIntegerField(default=0)
    exam_answers = models.PositiveIntegerField(default=0)
    exam_sessions = models.PositiveIntegerField(default=0)
    changed_grades = models.PositiveIntegerField(
        default=0, help_text="Regraded answers whose correctness changed."
    )
    # {"<user id>": {"practice_right": n, "practice_wrong": n,
    #                "exams": {"<session id>": [score before, score after]}}}
    affected = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("question", "to_version"), name="rekeyrun_once_per_version"
            ),
            models.UniqueConstraint(
                fields=("question",),
                condition=models.Q(status="regrading"),
                name="rekeyrun_one_running_per_question",
            ),
            models.CheckConstraint(
                condition=models.Q(to_version__gt=models.F("from_version")),
                name="rekeyrun_forward",
            ),
        ]

    def __str__(self) -> str:
        return f"q{self.question_id} v{self.from_version}->v{self.to_version} ({self.status})"
