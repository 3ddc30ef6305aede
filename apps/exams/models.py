"""Timed mock exams: templates (a fixed question list or a per-category blueprint), the sessions
candidates sit, and the answers they save. Flows live in ``apps.exams.services``."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.questions.models import Question
from apps.taxonomy.models import Category


class ExamPaper(models.IntegerChoices):
    PAPER_1 = 1, "Paper 1"
    PAPER_2 = 2, "Paper 2"


class TemplateKind(models.TextChoices):
    FIXED = "fixed", "Fixed list of questions"
    BLUEPRINT = "blueprint", "Blueprint (questions per category, drawn at start)"
    # A mock that claims to be Paper 1 or Paper 2: single best answer questions only, drawn to
    # the paper's blueprint (PaperSpec) scaled to the template's length, in the paper's time per
    # question. Its own blueprint rows and duration are not used (services/drawing.py).
    PAPER = "paper", "Paper standard (the paper's blueprint and time, single best answer only)"


class ExamTemplate(models.Model):
    name = models.CharField(max_length=200, unique=True)
    paper = models.PositiveSmallIntegerField(choices=ExamPaper.choices)
    duration_minutes = models.PositiveIntegerField()
    total_questions = models.PositiveIntegerField()
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    kind = models.CharField(
        max_length=10, choices=TemplateKind.choices, default=TemplateKind.BLUEPRINT
    )
    shuffle_questions = models.BooleanField(
        default=True,
        help_text="Randomise the question order per session (a blueprint draw is always shuffled).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("paper", "name")
        constraints = [
            models.CheckConstraint(
                condition=Q(paper__in=(1, 2)), name="exam_template_paper_1_or_2"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1) & Q(duration_minutes__lte=600),
                name="exam_template_duration_1_to_600",
            ),
            models.CheckConstraint(
                condition=Q(total_questions__gte=1) & Q(total_questions__lte=500),
                name="exam_template_total_1_to_500",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExamTemplateQuestion(models.Model):
    """One question of a fixed template, in the template's order."""

    template = models.ForeignKey(
        ExamTemplate, on_delete=models.CASCADE, related_name="fixed_questions"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("order", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("template", "question"), name="exam_template_question_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template_id}#{self.order}: {self.question_id}"


class BlueprintItem(models.Model):
    """``count`` questions drawn from ``category`` when a session starts."""

    template = models.ForeignKey(
        ExamTemplate, on_delete=models.CASCADE, related_name="blueprint_items"
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ("category__order", "category__name")
        constraints = [
            models.UniqueConstraint(
                fields=("template", "category"), name="exam_blueprint_category_once"
            ),
            models.CheckConstraint(condition=Q(count__gte=1), name="exam_blueprint_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.count} x {self.category_id}"


class SessionStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    EXPIRED_SUBMITTED = "expired_submitted", "Submitted at the deadline"


class ExamSessionQuerySet(models.QuerySet["ExamSession"]):
    def taking_answers(self, *, deadline_from: datetime) -> ExamSessionQuerySet:
        """Sessions that still take answers: in progress, with a deadline (``expires_at``) no
        earlier than ``deadline_from``, which is the moment less the grace
        (:func:`apps.exams.selectors.deadline_from`). The set twin of ``is_open and not
        is_past_deadline``; the grace is not read here so that the queryset compiles once
        with ``deadline_from`` as its parameter."""
        return self.filter(status=SessionStatus.IN_PROGRESS, expires_at__gte=deadline_from)


class ExamSession(models.Model):
    """One sitting of a template. ``question_ids`` and ``option_order`` are fixed at start so a
    reload shows the same paper. The score fields are written once, by the submission."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exam_sessions"
    )
    template = models.ForeignKey(ExamTemplate, on_delete=models.PROTECT, related_name="sessions")
    question_ids = models.JSONField(default=list)
    option_order = models.JSONField(default=dict)  # {"<question id>": [option id, ...]}
    seed = models.BigIntegerField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.IN_PROGRESS
    )
    auto_submitted = models.BooleanField(default=False)
    score_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    correct = models.PositiveIntegerField(null=True, blank=True)
    answered = models.PositiveIntegerField(null=True, blank=True)
    time_spent_sec = models.PositiveIntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)

    objects = ExamSessionQuerySet.as_manager()

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = [
            models.Index(fields=("user", "-started_at"), name="exam_session_user_history"),
            models.Index(fields=("user", "-submitted_at"), name="exam_session_user_submitted"),
            models.Index(
                fields=("expires_at",),
                condition=Q(status="in_progress"),
                name="exam_session_open_by_deadline",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("user", "template"),
                condition=Q(status="in_progress"),
                name="exam_session_one_in_progress",
            ),
            models.CheckConstraint(
                condition=(Q(status="in_progress") & Q(submitted_at__isnull=True))
                | (~Q(status="in_progress") & Q(submitted_at__isnull=False)),
                name="exam_session_submitted_iff_not_in_progress",
            ),
            models.CheckConstraint(
                condition=Q(score_percent__isnull=True) | Q(score_percent__lte=100),
                name="exam_session_score_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"exam session {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == SessionStatus.IN_PROGRESS


class ExamAnswer(models.Model):
    """The candidate's current answer to one question of a session (upserted until submission).
    ``is_correct`` stays null until the session is scored."""

    session = models.ForeignKey(ExamSession, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    selected_option_ids = models.JSONField(default=list)
    flagged = models.BooleanField(default=False)
    time_spent_sec = models.PositiveIntegerField(default=0)
    saved_at = models.DateTimeField()
    is_correct = models.BooleanField(null=True, blank=True)
    # The question's version when the session was scored (null until then): the review shows
    # that version's key and explanation even after an editor changes the question.
    question_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("session", "question"), name="exam_answer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.question_id}"


class PaperSpec(models.Model):
    """One paper of MRCS Part A as the colleges set it (``shared/mrcs-exam.md``): its length, its
    time, the minimum mark a candidate must reach on it, and its blueprint (the
    :class:`PaperSpecCategory` rows). Readiness predicts against it and mocks that claim to be
    this paper follow it. Staff change it in the admin when the colleges do; the documented
    values are the defaults (migration ``0003``)."""

    paper = models.PositiveSmallIntegerField(choices=ExamPaper.choices, unique=True)
    name = models.CharField(max_length=120)
    question_count = models.PositiveIntegerField()
    duration_minutes = models.PositiveIntegerField()
    minimum_percent = models.PositiveSmallIntegerField(
        help_text="The minimum level of competence on this paper, as a percentage."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("paper",)
        constraints = [
            models.CheckConstraint(condition=Q(paper__in=(1, 2)), name="paper_spec_paper_1_or_2"),
            models.CheckConstraint(
                condition=Q(minimum_percent__lte=100), name="paper_spec_minimum_0_to_100"
            ),
            models.CheckConstraint(
                condition=Q(question_count__gte=1), name="paper_spec_questions_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PaperSpecCategory(models.Model):
    """``count`` of a paper's questions come from ``category`` (the paper's blueprint)."""

    spec = models.ForeignKey(PaperSpec, on_delete=models.CASCADE, related_name="categories")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ("spec", "-count", "category__name")
        constraints = [
            models.UniqueConstraint(fields=("spec", "category"), name="paper_spec_category_once"),
            models.CheckConstraint(condition=Q(count__gte=1), name="paper_spec_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.count} x {self.category_id}"


class PassStandard(models.Model):
    """The combined pass mark over both papers (set per sitting by standard setting; one row).
    A candidate passes Part A with the combined mark at or above it **and** each paper at or
    above its :attr:`PaperSpec.minimum_percent`."""

    combined_pass_mark_percent = models.PositiveSmallIntegerField(default=73)
    note = models.CharField(
        max_length=300, blank=True, help_text="Where the marks come from (the sitting, a source)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(combined_pass_mark_percent__lte=100),
                name="pass_standard_0_to_100",
            ),
            models.CheckConstraint(condition=Q(id=1), name="pass_standard_single_row"),
        ]

    def __str__(self) -> str:
        return f"Combined pass mark {self.combined_pass_mark_percent}%"


class SessionEventKind(models.TextChoices):
    FOCUS_LOST = "focus_lost", "Focus lost"
    FOCUS_REGAINED = "focus_regained", "Focus regained"
    HIDDEN = "hidden", "Page hidden"
    VISIBLE = "visible", "Page visible"
    RESUMED = "resumed", "Resumed"


class EventSource(models.TextChoices):
    CLIENT = "client", "Reported by the candidate's browser"
    SERVER = "server", "Noted by the server"


MAX_EVENTS_PER_SESSION = 500
"""Integrity events kept per session: beyond it the endpoint answers 409
``event_limit_reached`` (a browser reporting more is broken or abusive, and a sitting of five
hours with a focus change a minute stays well below it)."""


class ExamSitting(models.Model):
    """One network address and browser a session was opened or reported from: a second row for a
    session means it was continued elsewhere. Signals for an examiner, never proof."""

    session = models.ForeignKey(ExamSession, on_delete=models.CASCADE, related_name="sittings")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    first_seen_at = models.DateTimeField()

    class Meta:
        ordering = ("first_seen_at", "id")
        constraints = [
            # A null address (unparseable) is one value, not a new sitting per request.
            models.UniqueConstraint(
                fields=("session", "ip_address", "user_agent"),
                name="exam_sitting_once",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.ip_address or '?'} {self.user_agent[:40]}"


class ExamSessionEvent(models.Model):
    """A focus, visibility or resume signal of a session while it was open. ``occurred_at`` is
    the browser's clock (as reported), ``recorded_at`` the server's."""

    session = models.ForeignKey(ExamSession, on_delete=models.CASCADE, related_name="events")
    sitting = models.ForeignKey(
        ExamSitting, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=SessionEventKind.choices)
    source = models.CharField(max_length=8, choices=EventSource.choices, default=EventSource.CLIENT)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ("recorded_at", "id")
        indexes = [models.Index(fields=("session", "recorded_at"), name="exam_event_session")]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.kind} at {self.recorded_at:%H:%M:%S}"
