"""Staff views of practice: sessions and attempts (read-only), flags (without the private
notes), spaced-repetition cards (read-only) and the editors' queue of problem reports."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import User
from apps.audit.admin_mixins import is_content_editor
from apps.core.large_tables import LargeTableAdmin
from apps.practice import services
from apps.practice.models import (
    PracticeAttempt,
    PracticeSession,
    QuestionFlag,
    QuestionReport,
    ReportStatus,
    ReviewCard,
    SchedulerParameters,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Practice data is written by candidates through the API only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PracticeAttemptInline(admin.TabularInline):
    model = PracticeAttempt
    extra = 0
    can_delete = False
    fields = (
        "question",
        "category",
        "selected_option_ids",
        "is_correct",
        "question_version",
        "time_spent_sec",
        "counted_time_sec",
        "answered_at",
    )
    readonly_fields = fields
    raw_id_fields = ("question",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PracticeSession)
class PracticeSessionAdmin(LargeTableAdmin, ReadOnlyAdmin):  # type: ignore[misc]
    list_display = (
        "id",
        "user",
        "created_at",
        "question_count",
        "answered",
        "correct",
        "time_spent_sec",
        "completed_at",
    )
    list_filter = ("created_at", "completed_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    inlines = (PracticeAttemptInline,)
    readonly_fields = (
        "user",
        "seed",
        "config",
        "question_ids",
        "requested_count",
        "available_count",
        "answered",
        "correct",
        "time_spent_sec",
        "category_ids",
        "created_at",
        "last_activity_at",
        "completed_at",
    )


@admin.register(PracticeAttempt)
class PracticeAttemptAdmin(LargeTableAdmin, ReadOnlyAdmin):  # type: ignore[misc]
    list_display = ("id", "session", "question", "is_correct", "time_spent_sec", "answered_at")
    list_filter = ("is_correct", "answered_at", "category")
    # By the learner only: a text search of question stems would join every attempt to its
    # question (a question's answers are on its statistics page in the question bank).
    search_fields = ("session__user__email",)
    list_select_related = ("session", "question")
    raw_id_fields = ("session", "question")


@admin.register(QuestionFlag)
class QuestionFlagAdmin(ReadOnlyAdmin):
    """Which questions candidates flag; the notes are private to their authors and not shown."""

    list_display = ("id", "question", "is_flagged", "updated_at")
    list_filter = ("is_flagged", "question__category")
    search_fields = ("question__stem",)
    list_select_related = ("question",)
    fields = ("user", "question", "is_flagged", "created_at", "updated_at")
    readonly_fields = fields


@admin.register(ReviewCard)
class ReviewCardAdmin(ReadOnlyAdmin):
    """Candidates' FSRS cards, to answer "why is this question due?"; written only by answers."""

    list_display = ("id", "user", "question", "due", "reps", "lapses", "last_review_at")
    list_filter = ("due", "question__category")
    search_fields = ("user__email", "question__stem")
    list_select_related = ("user", "question")
    raw_id_fields = ("user", "question")


@admin.register(SchedulerParameters)
class SchedulerParametersAdmin(ReadOnlyAdmin):
    """Candidates' fitted FSRS weights, to see whose schedule is their own; written only by the
    nightly fit."""

    list_display = ("id", "user", "review_count", "fitted_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(QuestionReport)
class QuestionReportAdmin(admin.ModelAdmin):
    """The editors' queue: open reports first, filterable, resolved with an action (recorded
    in the audit trail). Editors (by role, staff flag set) may see the reports and resolve or
    reopen them without hand-assigned model permissions; nobody adds or deletes one here."""

    list_display = ("id", "question", "reason", "status", "user", "created_at", "resolved_by")
    list_filter = ("status", "reason", "question__category", "created_at")
    search_fields = ("question__stem", "message", "user__email")
    list_select_related = ("question", "user", "resolved_by")
    ordering = ("status", "-created_at")
    date_hierarchy = "created_at"
    actions = ("mark_resolved", "reopen")
    fields = (
        "question",
        "user",
        "reason",
        "message",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    )
    readonly_fields = fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_content_editor(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_content_editor(request) or super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # "change" is resolving or reopening: every field is read-only.
        return is_content_editor(request) or super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Mark resolved", permissions=["change"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[QuestionReport]) -> None:
        assert isinstance(request.user, User)  # nosec B101 # admin_view
        ids = list(queryset.filter(status=ReportStatus.OPEN).values_list("id", flat=True))
        changed = services.resolve_question_reports(report_ids=ids, by=request.user)
        self.message_user(request, f"{changed} report(s) marked resolved.", messages.SUCCESS)

    @admin.action(description="Reopen", permissions=["change"])
    def reopen(self, request: HttpRequest, queryset: QuerySet[QuestionReport]) -> None:
        assert isinstance(request.user, User)  # nosec B101 # admin_view
        ids = list(queryset.filter(status=ReportStatus.RESOLVED).values_list("id", flat=True))
        changed = services.reopen_question_reports(report_ids=ids, by=request.user)
        self.message_user(request, f"{changed} report(s) reopened.", messages.SUCCESS)
