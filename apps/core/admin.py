"""The outbox: tasks kept while the broker was unreachable, with a "publish now" action."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.models import OutboxMessage
from apps.core.queue import drain_outbox


@admin.action(description="Publish now (due or not)")
def publish_now(
    modeladmin: OutboxMessageAdmin, request: HttpRequest, queryset: QuerySet[OutboxMessage]
) -> None:
    from django.utils import timezone

    queryset.update(next_attempt_at=timezone.now())
    result = drain_outbox()
    modeladmin.message_user(
        request,
        f"Published {result['published']}, failed {result['failed']}, "
        f"{result['remaining']} still waiting.",
    )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("task_name", "created_at", "attempts", "next_attempt_at", "last_error")
    search_fields = ("task_name",)
    readonly_fields = (
        "task_name",
        "args",
        "kwargs",
        "created_at",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    actions = (publish_now,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
