"""Reads of billing: the plans on sale, a user's subscription and paid entitlements, the GDPR
section. Nothing here calls Stripe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from apps.billing.models import (
    TERMINAL_STATUSES,
    Customer,
    EntitlementChange,
    Plan,
    Subscription,
)


def active_plans() -> QuerySet[Plan]:
    """The plans offered to new customers, in the order staff set."""
    return Plan.objects.filter(is_active=True)


def paid_entitlements(*, user_id: int, at: datetime) -> frozenset[str]:
    """The entitlements the user's subscriptions grant at ``at`` (one query), regardless of
    whether billing is on: :mod:`apps.billing.entitlements` is where that is decided."""
    names: set[str] = set()
    for granted in (
        Subscription.objects.entitling(at=at)
        .filter(user_id=user_id)
        .values_list("plan__entitlements", flat=True)
    ):
        names.update(granted or ())
    return frozenset(names)


def current_subscription(*, user_id: int, at: datetime) -> Subscription | None:
    """The subscription to show the user: one that entitles them now, else the newest one
    still open (not canceled or expired), else the newest of all; ``None`` if they never had
    one."""
    subscriptions = Subscription.objects.filter(user_id=user_id).select_related("plan")
    entitling = subscriptions.entitling(at=at).order_by("-current_period_end", "-id").first()
    if entitling is not None:
        return entitling
    open_one = subscriptions.exclude(status__in=TERMINAL_STATUSES).order_by("-id").first()
    return open_one or subscriptions.order_by("-id").first()


def stripe_customer_id(*, user_id: int) -> str | None:
    """The user's Stripe customer id, once a checkout has created one."""
    return (
        Customer.objects.filter(user_id=user_id)
        .values_list("stripe_customer_id", flat=True)
        .first()
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def personal_data(*, user_id: int) -> dict[str, Any]:
    """The billing section of the GDPR export: the Stripe customer id, every subscription and
    the history of entitlements. Card and address details are held by Stripe, never here."""
    return {
        "stripe_customer_id": stripe_customer_id(user_id=user_id),
        "subscriptions": [
            {
                "plan": s.plan.slug if s.plan else None,
                "status": s.status,
                "stripe_subscription_id": s.stripe_subscription_id,
                "current_period_end": _iso(s.current_period_end),
                "cancel_at_period_end": s.cancel_at_period_end,
                "canceled_at": _iso(s.canceled_at),
                "created_at": _iso(s.created_at),
            }
            for s in Subscription.objects.filter(user_id=user_id)
            .select_related("plan")
            .order_by("created_at", "id")
        ],
        "entitlement_history": [
            {
                "occurred_at": _iso(c.occurred_at),
                "before": list(c.before),
                "after": list(c.after),
                "reason": c.reason,
            }
            for c in EntitlementChange.objects.filter(user_id=user_id).order_by("occurred_at", "id")
        ],
    }
