"""Read-only views of the learning record for staff (support and drift investigation)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.analytics.models import (
    AnswerFact,
    ArchivedMonth,
    CategoryProgress,
    DailyActivity,
    HeartbeatLog,
)
from apps.core.large_tables import LargeTableAdmin


class ReadOnlyAdmin(admin.ModelAdmin):
    """The record is written only by the services; staff can look, not edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AnswerFact)
class AnswerFactAdmin(LargeTableAdmin, ReadOnlyAdmin):  # type: ignore[misc]
    list_display = (
        "user",
        "question_id",
        "category",
        "source",
        "source_id",
        "is_correct",
        "time_spent_sec",
        "answered_at",
        "local_date",
    )
    list_filter = ("source", "is_correct")
    list_select_related = ("user", "category")
    search_fields = ("user__email",)


@admin.register(DailyActivity)
class DailyActivityAdmin(LargeTableAdmin, ReadOnlyAdmin):  # type: ignore[misc]
    list_display = ("user", "date", "answered", "correct", "time_spent_sec", "reading_sec")
    list_select_related = ("user",)
    search_fields = ("user__email",)


@admin.register(CategoryProgress)
class CategoryProgressAdmin(ReadOnlyAdmin):
    list_display = ("user", "category", "answered", "correct", "last_practiced_at")
    list_select_related = ("user", "category")
    search_fields = ("user__email", "category__name")


@admin.register(HeartbeatLog)
class HeartbeatLogAdmin(LargeTableAdmin, ReadOnlyAdmin):  # type: ignore[misc]
    list_display = ("user", "at", "local_date", "seconds")
    list_select_related = ("user",)
    search_fields = ("user__email",)


@admin.register(ArchivedMonth)
class ArchivedMonthAdmin(ReadOnlyAdmin):
    """Months of the answer log archived by ``manage.py archive_history``: what left, what was
    kept and the file's digest."""

    list_display = (
        "partition",
        "archived_at",
        "rows_before",
        "rows_kept",
        "rows_archived",
        "file",
        "sha256",
    )
