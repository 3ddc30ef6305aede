"""Staff views of billing: plans are edited here; subscriptions, customers, processed events and
the entitlement history are read-only (their state is Stripe's, arriving by webhook only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.billing.models import (
    Customer,
    EntitlementChange,
    Plan,
    ProcessedEvent,
    Subscription,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the webhook only: staff read, never edit (an edit would be overwritten by the
    next event, or disagree with what Stripe charges)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "price_amount",
        "currency",
        "interval",
        "entitlements",
        "is_active",
        "order",
    )
    list_filter = ("is_active", "interval")
    list_editable = ("is_active", "order")
    search_fields = ("name", "slug", "stripe_price_id")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A plan that was sold stays (subscriptions point at it): retire it with is_active.
        return obj is None or not obj.subscriptions.exists()


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "stripe_subscription_id",
        "user",
        "plan",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "state_as_of",
    )
    list_filter = ("status", "plan", "cancel_at_period_end")
    search_fields = ("user__email", "stripe_subscription_id", "stripe_customer_id")
    list_select_related = ("user", "plan")
    date_hierarchy = "created_at"


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ("stripe_customer_id", "user", "created_at")
    search_fields = ("user__email", "stripe_customer_id")
    list_select_related = ("user",)


@admin.register(ProcessedEvent)
class ProcessedEventAdmin(ReadOnlyAdmin):
    list_display = (
        "stripe_event_id",
        "event_type",
        "outcome",
        "object_id",
        "event_created",
        "processed_at",
    )
    list_filter = ("outcome", "event_type")
    search_fields = ("stripe_event_id", "object_id")
    date_hierarchy = "processed_at"


@admin.register(EntitlementChange)
class EntitlementChangeAdmin(ReadOnlyAdmin):
    """A customer's entitlement history: filter by their email (search) to read it in order."""

    list_display = ("occurred_at", "user", "before", "after", "reason")
    search_fields = ("user__email", "reason")
    list_select_related = ("user",)
    date_hierarchy = "occurred_at"
