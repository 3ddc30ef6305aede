"""Item quality's own rows: statistics per question version and the re-key runs."""

from __future__ import annotations

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
