"""Staff tools: broadcasts (fanned out by a task after save), targeted notifications,
preferences and the reminder ledger."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from apps.audit.services import record_event
from apps.notifications import services
from apps.notifications.models import (
    Broadcast,
    Notification,
    NotificationPreference,
    ReminderLog,
)

BROADCAST_FIELDS = (
    "title",
    "body",
    "kind",
    "link",
    "audience",
    "role",
    "category",
    "target_user",
    "send_email",
)


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    """Saving a new broadcast enqueues its fan-out; a broadcast is never edited afterwards."""

    list_display = ("title", "kind", "audience", "status", "sent_count", "created_by", "created_at")
    list_filter = ("status", "kind", "audience")
    search_fields = ("title", "body")
    raw_id_fields = ("target_user",)
    readonly_fields = ("status", "sent_count", "created_by", "created_at", "finished_at")
    fields = (*BROADCAST_FIELDS, *readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Broadcast | None = None) -> Any:
        if obj is not None:
            return (*BROADCAST_FIELDS, *self.readonly_fields)
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Broadcast, form: Any, change: bool) -> None:
        if change:
            return
        obj.created_by = request.user  # type: ignore[assignment]
        obj.save()
        services.start_broadcast(broadcast=obj, actor=request.user)

    def response_add(
        self, request: HttpRequest, obj: Broadcast, post_url_continue: Any = None
    ) -> Any:
        self.message_user(
            request, "The broadcast is being sent in the background.", level=messages.INFO
        )
        return super().response_add(request, obj, post_url_continue)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Adding a notification sends it to one user (a targeted message)."""

    list_display = ("title", "user", "kind", "is_read", "created_at", "broadcast")
    list_filter = ("kind", "is_read")
    search_fields = ("title", "user__email")
    raw_id_fields = ("user",)
    list_select_related = ("user", "broadcast")
    fields = ("user", "title", "body", "kind", "link", "is_read", "read_at", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Notification | None = None) -> Any:
        if obj is not None:
            return self.fields
        return ("is_read", "read_at", "created_at")

    def save_model(self, request: HttpRequest, obj: Notification, form: Any, change: bool) -> None:
        if change:
            return
        obj.save()
        record_event(
            kind="content",
            action="notifications.notification_sent",
            actor=request.user,
            target=obj,
            subject_user_id=obj.user_id,
            after={"title": obj.title, "kind": obj.kind},
        )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "in_app_broadcasts",
        "email_broadcasts",
        "email_reminders",
        "email_weekly_summary",
        "updated_at",
    )
    search_fields = ("user__email",)
    raw_id_fields = ("user",)
    list_select_related = ("user",)


@admin.register(ReminderLog)
class ReminderLogAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "key", "sent_at", "emailed_at")
    list_filter = ("kind",)
    search_fields = ("user__email", "key")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
