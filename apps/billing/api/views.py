"""Billing endpoints: thin views over ``selectors`` and ``services``. With billing off every one
of them except the subscription answers 404 ``billing_disabled``."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.billing import selectors, services
from apps.billing.api import serializers as s
from apps.billing.entitlements import billing_enabled, entitlement_names
from apps.core.api.schema import error_responses

TAGS = ["billing"]
DISABLED = (
    " With billing off (the default) the answer is 404 `billing_disabled`: every feature is "
    "available and nothing is sold."
)


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated (the default permission)  # nosec B101
    return user


class PlansView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Plans on sale",
        description="The plans a learner can subscribe to, in display order. A plain array."
        + DISABLED,
        responses={200: s.PlanSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        services.ensure_billing_enabled()
        return Response(s.PlanSerializer(selectors.active_plans(), many=True).data)


class CheckoutView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Start paying for a plan",
        description=(
            "A Stripe Checkout page for the plan; send the browser to `url`. The subscription "
            "starts when Stripe reports the payment (webhook), not when this answers. 400 on "
            "`plan_id` for a plan not on sale; 409 `already_subscribed` while a subscription "
            "is running (change plans in the portal); 503 `payment_provider_unavailable` when "
            "Stripe cannot be reached." + DISABLED
        ),
        request=s.CheckoutSerializer,
        responses={200: s.RedirectSerializer, **error_responses(400, 401, 404, 409, 503)},
    )
    def post(self, request: Request) -> Response:
        # The body is checked first: a malformed request is a 400 whether billing is on or off.
        data = s.CheckoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.ensure_billing_enabled()
        url = services.start_checkout(user=_user(request), plan_id=data.validated_data["plan_id"])
        return Response({"url": url})


class PortalView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Manage the subscription",
        description=(
            "Stripe's customer portal (change plan or card, cancel, invoices); send the browser "
            "to `url`. 409 `no_billing_account` before the first checkout; 503 when Stripe "
            "cannot be reached." + DISABLED
        ),
        request=None,
        responses={200: s.RedirectSerializer, **error_responses(401, 404, 409, 503)},
    )
    def post(self, request: Request) -> Response:
        return Response({"url": services.open_portal(user=_user(request))})


class SubscriptionView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The caller's subscription and entitlements",
        description=(
            "Always 200. With billing off: `enabled` false, `plan`, `status` and "
            "`current_period_end` null and every entitlement. With billing on: the "
            "subscription that entitles the caller now (else their newest one, or nulls) and "
            "what they may use."
        ),
        responses={200: s.SubscriptionSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        body: dict[str, Any] = {
            "enabled": billing_enabled(),
            "plan": None,
            "status": None,
            "current_period_end": None,
            "entitlements": entitlement_names(user),
        }
        if billing_enabled():
            current = selectors.current_subscription(user_id=user.pk, at=timezone.now())
            if current is not None:
                body["plan"] = current.plan
                body["status"] = current.status
                body["current_period_end"] = current.current_period_end
        return Response(s.SubscriptionSerializer(body).data)


class StripeWebhookView(APIView):
    """Called by Stripe, not by a client: authenticated by the payload's signature."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()  # Stripe's retries must never be throttled away; the signature guards

    @extend_schema(
        tags=TAGS,
        summary="Stripe webhook",
        description=(
            "For Stripe only. The `Stripe-Signature` header is verified with the webhook secret "
            "(Stripe's v1 scheme, at most 5 minutes old): 400 `invalid_signature` otherwise, "
            "400 `invalid_event` for a signed body that is not an event. Each event is "
            "processed once (a redelivery answers 200 with `duplicate` true); an event older "
            "than the stored state is recorded as `stale` and changes nothing. Handled: "
            "`checkout.session.completed`, `customer.subscription.created|updated|deleted|"
            "paused|resumed`; any other type is recorded as `ignored`." + DISABLED
        ),
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: s.WebhookResultSerializer, **error_responses(400, 404)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        services.ensure_billing_enabled()
        result = services.process_stripe_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
        return Response(
            s.WebhookResultSerializer(
                {
                    "event_id": result.event_id,
                    "outcome": result.outcome,
                    "duplicate": result.duplicate,
                }
            ).data
        )
