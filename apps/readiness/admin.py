"""Readiness for examiners and admins: the calibration runs (with a button to run one now),
the item parameters they fitted, and the calibration report of predicted against actual."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from apps.accounts.permissions import has_role
from apps.core.queue import enqueue_after_commit
from apps.core.roles import Role
from apps.readiness.models import CalibrationReport, CalibrationRun, ItemParameter
from apps.readiness.services.calibration import CALIBRATE_TASK


class ExaminersRead:
    """Read-only for examiners, editors and admins; nothing is edited by hand."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.EXAMINER, Role.EDITOR)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(request.user, Role.EXAMINER, Role.EDITOR)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CalibrationRun)
class CalibrationRunAdmin(ExaminersRead, admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "started_at",
        "finished_at",
        "responses",
        "items",
        "learners",
        "iterations",
        "converged",
        "ability_sd",
        "seconds",
        "peak_memory_mb",
    )
    list_filter = ("status",)
    actions = ("run_calibration_now",)

    @admin.action(description="Run a calibration now (in the background)")
    def run_calibration_now(self, request: HttpRequest, queryset: QuerySet[CalibrationRun]) -> None:
        if not has_role(request.user, Role.EXAMINER):
            self.message_user(request, "Only examiners and admins may run it.", messages.ERROR)
            return
        enqueue_after_commit(CALIBRATE_TASK)
        self.message_user(request, "Calibration queued; it shows here when it finishes.")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not has_role(request.user, Role.EXAMINER):
            actions.pop("run_calibration_now", None)
        return actions


@admin.register(ItemParameter)
class ItemParameterAdmin(ExaminersRead, admin.ModelAdmin):
    list_display = ("question", "version", "difficulty", "se", "n", "infit", "outfit", "run")
    list_filter = ("run",)
    search_fields = ("question__id",)
    list_select_related = ("question", "run")
    ordering = ("-run_id", "question_id", "version")


@admin.register(CalibrationReport)
class CalibrationReportAdmin(ExaminersRead, admin.ModelAdmin):
    list_display = ("created_at", "sessions", "answers", "brier", "brier_baseline", "coverage")
    readonly_fields = (
        "created_at",
        "sessions",
        "answers",
        "brier",
        "brier_baseline",
        "coverage",
        "pass_brier",
        "reliability",
        "detail",
    )
    exclude = ("deciles", "interval_coverage")

    @admin.display(description="80% interval coverage")
    def coverage(self, obj: CalibrationReport) -> str:
        if obj.interval_coverage is None:
            return "n/a"
        return f"{100 * obj.interval_coverage:.0f}% of {obj.sessions} mocks"

    @admin.display(description="Reliability by decile (predicted vs observed)")
    def reliability(self, obj: CalibrationReport) -> str:
        if not obj.deciles:
            return "No held-out answers yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{:.3f}</td><td>{:.3f}</td></tr>",
            (
                (index, row["n"], row["predicted"], row["observed"])
                for index, row in enumerate(obj.deciles, start=1)
            ),
        )
        return format_html(
            "<table><thead><tr><th>Decile</th><th>n</th><th>Predicted</th><th>Observed</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )
