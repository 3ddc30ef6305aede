"""Billing: selling plans through Stripe and keeping each learner's subscription state.

The only code that writes billing rows. Checkout and the customer portal call Stripe through
:mod:`apps.billing.gateway`; everything Stripe decides (a payment went through, a renewal failed,
a subscription was canceled) arrives as a signed webhook event, processed by
:func:`process_stripe_event`:

- the signature is verified locally with Stripe's own scheme (``stripe.WebhookSignature``);
- each event is processed exactly once: its id is inserted first, under a unique constraint, in
  the transaction that applies it, so a redelivery (even a concurrent one) finds it and changes
  nothing;
- events may arrive in any order: a subscription keeps the ``created`` time of the event its
  state came from and an older event changes nothing; a canceled subscription stays canceled;
- ``checkout.session.completed`` ties the Stripe customer and subscription to the user;
  ``customer.subscription.created|updated|deleted`` carry the subscription's whole state.

Billing never touches a learner's learning history: a lapse only changes what
``has_entitlement`` answers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.billing import gateway
from apps.billing.entitlements import billing_enabled
from apps.billing.exceptions import (
    AlreadySubscribed,
    BillingDisabled,
    InvalidEvent,
    InvalidSignature,
    NoBillingAccount,
)
from apps.billing.models import (
    TERMINAL_STATUSES,
    Customer,
    EntitlementChange,
    EventOutcome,
    Plan,
    ProcessedEvent,
    Subscription,
    SubscriptionStatus,
)
from apps.billing.selectors import active_plans, paid_entitlements, stripe_customer_id
from apps.core.exceptions import ValidationFailed
from apps.core.queue import enqueue_after_commit

logger = logging.getLogger("apps.billing")

# Stripe's own default: a signed event older than this is refused (replay protection).
SIGNATURE_TOLERANCE_SECONDS = stripe.Webhook.DEFAULT_TOLERANCE

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
    }
)
CHECKOUT_COMPLETED = "checkout.session.completed"
# Unix times past this (year 9999) cannot be dates: refused as not an event, never a 500.
MAX_TIMESTAMP = 253_402_300_800


def ensure_billing_enabled() -> None:
    """Raises :class:`BillingDisabled` (404 ``billing_disabled``) when billing is off."""
    if not billing_enabled():
        raise BillingDisabled()


# --- Checkout and portal -------------------------------------------------------------------


def start_checkout(*, user: User, plan_id: int) -> str:
    """The URL of a Stripe Checkout page selling ``plan_id`` to ``user``.

    Refused with 400 on ``plan_id`` for a plan that is not on sale, and with 409
    ``already_subscribed`` while the user has a subscription that entitles them (plan changes
    go through the portal, so nobody pays twice).
    """
    ensure_billing_enabled()
    plan = active_plans().filter(pk=plan_id).first()
    if plan is None:
        raise ValidationFailed(fields={"plan_id": ["No plan on sale has this id."]})
    if Subscription.objects.entitling(at=timezone.now()).filter(user=user).exists():
        raise AlreadySubscribed()
    frontend = settings.FRONTEND_URL.rstrip("/")
    return gateway.create_checkout_session(
        price_id=plan.stripe_price_id,
        user_id=user.pk,
        plan_id=plan.pk,
        customer_id=stripe_customer_id(user_id=user.pk),
        customer_email=user.email,
        success_url=f"{frontend}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{frontend}/billing/plans",
    )


def open_portal(*, user: User) -> str:
    """The URL of Stripe's customer portal for ``user``; 409 ``no_billing_account`` before
    their first checkout."""
    ensure_billing_enabled()
    customer_id = stripe_customer_id(user_id=user.pk)
    if customer_id is None:
        raise NoBillingAccount()
    frontend = settings.FRONTEND_URL.rstrip("/")
    return gateway.create_portal_session(customer_id=customer_id, return_url=f"{frontend}/billing")


# --- Webhooks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    outcome: str
    duplicate: bool


def process_stripe_event(*, payload: bytes, signature: str | None) -> WebhookResult:
    """Verifies, records and applies one Stripe webhook delivery (see the module docstring).

    Raises :class:`InvalidSignature` (400) for a missing, wrong or stale signature and
    :class:`InvalidEvent` (400) for a signed body that is not an event; either way nothing is
    written. A redelivered event returns its first outcome with ``duplicate=True``.
    """
    ensure_billing_enabled()
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, SIGNATURE_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise InvalidSignature() from exc
    event = _parse_event(payload)
    event_id, event_type = event["id"], event["type"]
    created = datetime.fromtimestamp(event["created"], tz=UTC)
    obj: dict[str, Any] = event["data"]["object"]

    with transaction.atomic():
        try:
            # The unique id is the gate: a concurrent delivery of the same event waits here for
            # this transaction and then fails the insert (or takes over if this one rolls back).
            with transaction.atomic():
                record = ProcessedEvent.objects.create(
                    stripe_event_id=event_id,
                    event_type=event_type,
                    event_created=created,
                    object_id=str(obj.get("id") or "")[:255],
                    outcome=EventOutcome.IGNORED,
                )
        except IntegrityError:
            first = ProcessedEvent.objects.get(stripe_event_id=event_id)
            return WebhookResult(event_id=event_id, outcome=first.outcome, duplicate=True)

        reason = f"{event_type} {event_id}"
        if event_type == CHECKOUT_COMPLETED:
            outcome = _apply_checkout_completed(obj, reason=reason)
        elif event_type in SUBSCRIPTION_EVENTS:
            outcome = _apply_subscription_snapshot(obj, created=created, reason=reason)
        else:
            outcome = EventOutcome.IGNORED
        if outcome != record.outcome:
            record.outcome = outcome
            record.save(update_fields=["outcome"])
    logger.info(
        "stripe event processed",
        extra={"event_id": event_id, "event_type": event_type, "outcome": outcome},
    )
    return WebhookResult(event_id=event_id, outcome=outcome, duplicate=False)


def _parse_event(payload: bytes) -> dict[str, Any]:
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent() from exc
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and event["id"]
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and 0 < event["created"] < MAX_TIMESTAMP
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise InvalidEvent()
    return event


def _stripe_id(value: Any) -> str:
    """An id Stripe sends either bare or expanded (``{"id": ...}``)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int) and 0 < value < MAX_TIMESTAMP:
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def _user_from(*, customer_id: str, metadata: Any, reference: Any = None) -> User | None:
    """The user an object is about: by the Stripe customer already tied to them, else by the
    user id our checkout put in ``client_reference_id`` / metadata."""
    if customer_id:
        customer = Customer.objects.select_related("user").filter(stripe_customer_id=customer_id)
        found = customer.first()
        if found is not None:
            return found.user
    meta = metadata if isinstance(metadata, dict) else {}
    user_id = _int_or_none(reference) or _int_or_none(meta.get("user_id"))
    return User.objects.filter(pk=user_id).first() if user_id else None


def _plan_from(obj: dict[str, Any]) -> Plan | None:
    """The plan of a subscription: by the price of its first item, else by our metadata."""
    items = obj.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        price_id = _stripe_id(data[0].get("price"))
        if price_id:
            plan = Plan.objects.filter(stripe_price_id=price_id).first()
            if plan is not None:
                return plan
    metadata = obj.get("metadata")
    plan_id = _int_or_none(metadata.get("plan_id")) if isinstance(metadata, dict) else None
    return Plan.objects.filter(pk=plan_id).first() if plan_id else None


def _period_end(obj: dict[str, Any]) -> datetime | None:
    """``current_period_end``: on the subscription in older API versions, on its items since
    2025-03-31 (the earliest item's end then)."""
    end = _timestamp(obj.get("current_period_end"))
    if end is not None:
        return end
    items = obj.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    ends = [
        _timestamp(item.get("current_period_end"))
        for item in (data if isinstance(data, list) else [])
        if isinstance(item, dict)
    ]
    known = [e for e in ends if e is not None]
    return min(known) if known else None


def _tie_customer(*, user: User, customer_id: str) -> None:
    """Remembers the user's Stripe customer (the first one; later checkouts reuse it)."""
    if not customer_id:
        return
    if Customer.objects.filter(user=user).exists():
        return
    try:
        with transaction.atomic():
            Customer.objects.create(user=user, stripe_customer_id=customer_id)
    except IntegrityError:
        # The customer is someone else's (or this one raced us): keep the existing tie.
        logger.warning("stripe customer already tied", extra={"user": user.pk})


def _locked_subscription(stripe_subscription_id: str) -> Subscription:
    """The subscription row (created empty if new), locked for this transaction."""
    Subscription.objects.get_or_create(stripe_subscription_id=stripe_subscription_id)
    return Subscription.objects.select_for_update().get(
        stripe_subscription_id=stripe_subscription_id
    )


def _record_change(
    *, user: User, subscription: Subscription, before: frozenset[str], reason: str
) -> None:
    now = timezone.now()
    after = paid_entitlements(user_id=user.pk, at=now)
    if after != before:
        EntitlementChange.objects.create(
            user=user,
            subscription=subscription,
            before=sorted(before),
            after=sorted(after),
            reason=reason[:255],
            occurred_at=now,
        )


def _apply_checkout_completed(obj: dict[str, Any], *, reason: str) -> str:
    """Ties the Stripe customer and subscription of a finished checkout to the user. The state
    itself comes from the subscription's own events (whichever arrives first)."""
    if obj.get("mode") != "subscription":
        return EventOutcome.IGNORED
    customer_id = _stripe_id(obj.get("customer"))
    subscription_id = _stripe_id(obj.get("subscription"))
    user = _user_from(
        customer_id="", metadata=obj.get("metadata"), reference=obj.get("client_reference_id")
    )
    if user is None or not subscription_id:
        return EventOutcome.IGNORED
    _tie_customer(user=user, customer_id=customer_id)
    subscription = _locked_subscription(subscription_id)
    if subscription.user_id is not None:
        return EventOutcome.APPLIED if subscription.user_id == user.pk else EventOutcome.IGNORED
    before = paid_entitlements(user_id=user.pk, at=timezone.now())
    subscription.user = user
    subscription.stripe_customer_id = subscription.stripe_customer_id or customer_id
    if subscription.plan_id is None:
        metadata = obj.get("metadata")
        plan_id = _int_or_none(metadata.get("plan_id")) if isinstance(metadata, dict) else None
        subscription.plan = Plan.objects.filter(pk=plan_id).first() if plan_id else None
    subscription.save()
    _record_change(user=user, subscription=subscription, before=before, reason=reason)
    return EventOutcome.APPLIED


def _apply_subscription_snapshot(obj: dict[str, Any], *, created: datetime, reason: str) -> str:
    """Stores the subscription's state as the event describes it, unless a newer event already
    did (or the subscription is canceled for good)."""
    subscription_id = _stripe_id(obj.get("id"))
    status = obj.get("status")
    if not subscription_id or status not in SubscriptionStatus.values:
        return EventOutcome.IGNORED
    customer_id = _stripe_id(obj.get("customer"))
    subscription = _locked_subscription(subscription_id)
    if subscription.status in TERMINAL_STATUSES and status not in TERMINAL_STATUSES:
        return EventOutcome.STALE
    if subscription.state_as_of is not None and created < subscription.state_as_of:
        return EventOutcome.STALE

    user = subscription.user or _user_from(customer_id=customer_id, metadata=obj.get("metadata"))
    before = paid_entitlements(user_id=user.pk, at=timezone.now()) if user else frozenset()
    if user is not None:
        subscription.user = user
        _tie_customer(user=user, customer_id=customer_id)
    subscription.plan = _plan_from(obj) or subscription.plan
    subscription.stripe_customer_id = customer_id or subscription.stripe_customer_id
    if status == SubscriptionStatus.PAST_DUE:
        # The grace runs from the first event that saw it past due, not from each retry.
        already = subscription.status == SubscriptionStatus.PAST_DUE
        if not already or subscription.past_due_since is None:
            subscription.past_due_since = created
    else:
        subscription.past_due_since = None
    subscription.status = status
    subscription.current_period_end = _period_end(obj) or subscription.current_period_end
    subscription.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    subscription.canceled_at = _timestamp(obj.get("canceled_at")) or (
        created if status == SubscriptionStatus.CANCELED else None
    )
    subscription.state_as_of = created
    subscription.save()
    if user is not None:
        _record_change(user=user, subscription=subscription, before=before, reason=reason)
    return EventOutcome.APPLIED


# --- Account deletion ----------------------------------------------------------------------


def cancel_subscriptions_of(*, user_id: int) -> list[str]:
    """Asks Stripe (after the commit, through the queue) to cancel every open subscription of
    a user whose account is being deleted, so that nobody is charged for an account that is
    gone. Returns the subscription ids. The rows stay, without the user (docs/security.md)."""
    ids = list(
        Subscription.objects.filter(user_id=user_id)
        .exclude(status__in=TERMINAL_STATUSES)
        .values_list("stripe_subscription_id", flat=True)
    )
    for subscription_id in ids:
        enqueue_after_commit("billing.cancel_stripe_subscription", subscription_id)
    return ids


def cancel_stripe_subscription(*, subscription_id: str) -> None:
    """Cancels one subscription at Stripe (the task's work). Stripe then sends
    ``customer.subscription.deleted``, which records the state here."""
    gateway.cancel_subscription(subscription_id=subscription_id)
