"""What readiness keeps: the item parameters of each calibration, each learner's ability on the
same scale, and the runs and calibration reports that produced them.

The model is Rasch (one difficulty per question version, on the logit scale) with a normal
population of abilities, fitted by marginal maximum likelihood (``apps/readiness/irt.py``).
A learner's ability is kept as the log-likelihood of their first attempts on a fixed grid of
abilities, so an answer adds one term to it instead of a refit (``services/abilities.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.questions.models import Question


class CalibrationRun(models.Model):
    """One nightly (or hand-run) calibration: what it fitted, how long it took and whether the
    estimation converged. The newest finished run is the model readiness uses."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    responses = models.PositiveIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)
    learners = models.PositiveIntegerField(default=0)
    iterations = models.PositiveIntegerField(default=0)
    converged = models.BooleanField(default=False)
    # The population of abilities the fit found (mean fixed at 0 to identify the scale).
    ability_sd = models.FloatField(default=1.0)
    item_mean = models.FloatField(default=0.0)
    item_sd = models.FloatField(default=1.0)
    seconds = models.FloatField(default=0.0)
    peak_memory_mb = models.FloatField(default=0.0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = [
            models.Index(
                fields=("-finished_at",), condition=Q(status="finished"), name="calibration_done"
            )
        ]

    def __str__(self) -> str:
        return f"calibration {self.pk} ({self.status})"


class ItemParameter(models.Model):
    """A question version's Rasch difficulty from one run, with its standard error, the number
    of first attempts behind it and the item's fit (infit and outfit mean squares: near 1 fits,
    above about 1.3 is noise the model does not explain)."""

    run = models.ForeignKey(CalibrationRun, on_delete=models.CASCADE, related_name="items_fitted")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    difficulty = models.FloatField()
    se = models.FloatField()
    n = models.PositiveIntegerField()
    infit = models.FloatField(null=True, blank=True)
    outfit = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ("question_id", "version")
        constraints = [
            models.UniqueConstraint(
                fields=("run", "question", "version"), name="item_parameter_once_per_run"
            ),
        ]
        indexes = [models.Index(fields=("question", "version"), name="item_parameter_question")]

    def __str__(self) -> str:
        return f"q{self.question_id}v{self.version}: b={self.difficulty:.2f}"


class LearnerAbility(models.Model):
    """A learner's standing on the ability scale of ``run``.

    ``log_likelihood`` is the log-likelihood of their first attempts at each node of the run's
    ability grid; the posterior (with the run's population prior) gives ``theta`` (its mean) and
    ``se`` (its standard deviation). Facts with ids above ``last_fact_id`` are not in it yet:
    the next read adds the first attempts among them. The nightly run rebuilds every row.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # No database constraint: a process may still hold a run in its compiled model for a minute
    # after the nightly job pruned it; a row written against it then simply reads as "from
    # another run" and is rebuilt on the next read, instead of failing the request.
    run = models.ForeignKey(
        CalibrationRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    log_likelihood = ArrayField(models.FloatField(), default=list)
    theta = models.FloatField(default=0.0)
    se = models.FloatField(default=1.0)
    first_answered = models.PositiveIntegerField(default=0)
    first_correct = models.PositiveIntegerField(default=0)
    category_counts = models.JSONField(default=dict)  # {"<category id>": first attempts}
    last_fact_id = models.BigIntegerField(default=0)
    # The answered_at of the newest fact included: new facts are read from here on the
    # (user, answered_at) index instead of scanning by id.
    last_answered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=("theta",), name="learner_ability_theta")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.theta:.2f} ({self.se:.2f})"


# What rebuilding or updating a learner's ability writes (the nightly upsert and the per-read one).
ABILITY_FIELDS = (
    "run",
    "log_likelihood",
    "theta",
    "se",
    "first_answered",
    "first_correct",
    "category_counts",
    "last_fact_id",
    "last_answered_at",
    "updated_at",
)


class CalibrationReport(models.Model):
    """Predicted against actual on submitted mocks held out from a fit (``readiness_calibration``):
    the Brier score of per-answer predictions, a reliability table by decile, and how often the
    80% interval of the mock's score held the real score. Computed, never asserted."""

    created_at = models.DateTimeField()
    sessions = models.PositiveIntegerField(default=0)
    answers = models.PositiveIntegerField(default=0)
    brier = models.FloatField(null=True, blank=True)
    brier_baseline = models.FloatField(null=True, blank=True)
    interval_coverage = models.FloatField(null=True, blank=True)
    pass_brier = models.FloatField(null=True, blank=True)
    deciles = models.JSONField(default=list)
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"calibration report {self.created_at:%Y-%m-%d %H:%M}"
