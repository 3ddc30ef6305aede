"""Billing: the plans on sale, each learner's Stripe customer and subscriptions, the Stripe events
already processed, and the history of what each learner was entitled to.

Subscription state is Stripe's: it arrives only through signed webhooks (``services``) and is
kept here so that entitlement checks never call out. Rows that record a sale outlive the
account (``Subscription.user`` is set to null on deletion): see docs/security.md, "Billing".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class Entitlement(models.TextChoices):
    """What a plan can grant. With billing off everyone has all of them
    (:func:`apps.billing.entitlements.has_entitlement`)."""

    FULL_LENGTH_MOCKS = "full_length_mocks", "Full-length mock exams"
    READINESS = "readiness", "Readiness prediction"
    UNLIMITED_NEW_QUESTIONS = "unlimited_new_questions", "No cap on new questions a day"


ALL_ENTITLEMENTS: frozenset[str] = frozenset(Entitlement.values)


class PlanInterval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


class Plan(models.Model):
    """A plan on sale: its price (as Stripe charges it, through ``stripe_price_id``) and the
    entitlements it grants. Staff edit plans in the admin; prices are created in Stripe."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # Minor units (pence, cents), as Stripe counts them.
    price_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="gbp", help_text="ISO 4217, lower case.")
    interval = models.CharField(max_length=5, choices=PlanInterval.choices)
    stripe_price_id = models.CharField(
        max_length=255, unique=True, help_text="The Stripe Price this plan sells (price_...)."
    )
    entitlements = ArrayField(
        models.CharField(max_length=60, choices=Entitlement.choices),
        default=list,
        blank=True,
        help_text="Comma-separated: " + ", ".join(Entitlement.values) + ".",
    )
    is_active = models.BooleanField(default=True, help_text="Offered to new customers.")
    order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("order", "price_amount", "id")
        constraints = [
            # A misspelt entitlement would grant nothing and fail silently: the database refuses it.
            models.CheckConstraint(
                condition=Q(entitlements__contained_by=sorted(ALL_ENTITLEMENTS)),
                name="billing_plan_known_entitlements",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[a-z]{3}$"), name="billing_plan_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """The Stripe customer of a user (created by Stripe at their first checkout)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_customer"
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.stripe_customer_id


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses, all of them, so that any snapshot can be stored."""

    INCOMPLETE = "incomplete", "Incomplete (first payment pending)"
    INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    UNPAID = "unpaid", "Unpaid"
    PAUSED = "paused", "Paused"
    CANCELED = "canceled", "Canceled"


# Statuses no later event can leave (Stripe never revives a canceled or expired subscription).
TERMINAL_STATUSES = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def entitling(self, *, at: datetime) -> SubscriptionQuerySet:
        """Subscriptions that grant their plan's entitlements at ``at``: the one home of the rule.

        Trialing and active ones do, until the end of their paid period plus the grace
        (``BILLING_GRACE_DAYS``: a renewal we have not heard of yet is not a lapse); past_due
        ones do for the grace from the moment they fell due, while Stripe retries the payment.
        Every other status (canceled, unpaid, incomplete, paused) grants nothing.
        """
        grace = timedelta(days=settings.BILLING_GRACE_DAYS)
        paid = Q(status__in=(SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE)) & (
            Q(current_period_end__isnull=True) | Q(current_period_end__gt=at - grace)
        )
        retrying = Q(status=SubscriptionStatus.PAST_DUE, past_due_since__gt=at - grace)
        return self.filter(paid | retrying, plan__isnull=False, user__isnull=False)


class Subscription(models.Model):
    """A Stripe subscription as its newest event described it.

    ``state_as_of`` is the ``created`` time of the event that last set the state: an older
    event arriving later is recorded but does not change it. ``user`` becomes null when the
    account is deleted: the row is the record of a sale (docs/security.md).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="billing_subscriptions",
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="subscriptions"
    )
    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.INCOMPLETE
    )
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    state_as_of = models.DateTimeField(
        null=True, blank=True, help_text="Created time of the Stripe event the state comes from."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ("-updated_at", "-id")
        indexes = [models.Index(fields=("user", "status"), name="billing_sub_user_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SubscriptionStatus.values), name="billing_sub_known_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} ({self.status})"


class EventOutcome(models.TextChoices):
    APPLIED = "applied", "Applied"
    STALE = "stale", "Older than the stored state: recorded, changed nothing"
    IGNORED = "ignored", "Not a kind billing acts on, or about nothing we know"


class ProcessedEvent(models.Model):
    """A Stripe event already processed: its id is unique, so each is processed exactly once
    (a redelivery finds it and changes nothing). Holds Stripe ids only, no personal data."""

    stripe_event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    event_created = models.DateTimeField(help_text="When Stripe created the event.")
    object_id = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=10, choices=EventOutcome.choices)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-processed_at", "-id")

    def __str__(self) -> str:
        return f"{self.stripe_event_id} {self.event_type}"


class EntitlementChange(models.Model):
    """One change of a user's paid entitlements, as a Stripe event caused it: the set before
    and after, and what changed it. A lapse that needs no event (a grace period running out) is
    not written here; ``Subscription.entitling`` decides it when asked."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entitlement_changes"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    before = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    after = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    reason = models.CharField(max_length=255, help_text="The Stripe event type and id.")
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ("-occurred_at", "-id")
        indexes = [
            models.Index(fields=("user", "-occurred_at"), name="billing_entitlement_user_at")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.before} -> {self.after}"
