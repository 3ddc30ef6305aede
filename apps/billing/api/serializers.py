"""Input and output shapes of the billing endpoints (api-contract.md, "Billing")."""

from __future__ import annotations

from rest_framework import serializers

from apps.billing.models import Entitlement, EventOutcome, PlanInterval, SubscriptionStatus
from apps.core.api.serializers import InputSerializer


class PlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    price_amount = serializers.IntegerField(help_text="In minor units (pence, cents).")
    currency = serializers.CharField(help_text="ISO 4217, lower case, e.g. `gbp`.")
    interval = serializers.ChoiceField(choices=PlanInterval.choices)
    entitlements = serializers.ListField(child=serializers.ChoiceField(choices=Entitlement.choices))


class PlanSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()


class SubscriptionSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Whether billing is on for this server.")
    plan = PlanSummarySerializer(allow_null=True)
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices, allow_null=True)
    current_period_end = serializers.DateTimeField(allow_null=True)
    entitlements = serializers.ListField(
        child=serializers.ChoiceField(choices=Entitlement.choices),
        help_text="What the caller may use now (every entitlement while billing is off).",
    )


class CheckoutSerializer(InputSerializer):
    plan_id = serializers.IntegerField(min_value=1)


class RedirectSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Send the browser here (a Stripe-hosted page).")


class WebhookResultSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=EventOutcome.choices)
    duplicate = serializers.BooleanField(help_text="The event had been processed before.")
