"""Billing fixtures: billing switched on with test keys, a plan, Stripe events built and signed
here with the library's own scheme, and a stand-in for the one module that calls Stripe."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from rest_framework.test import APIClient

from apps.billing import gateway
from apps.billing.exceptions import PaymentProviderUnavailable
from apps.billing.models import Plan

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"  # a test key, not a secret
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
PERIOD_END = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
WEBHOOK = "/api/v1/billing/webhooks/stripe"


@pytest.fixture
def frozen(time_machine: Any) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def billing_on(settings: Any, frozen: datetime) -> None:
    """Billing on with test keys (``settings`` is pytest-django's override_settings)."""
    settings.BILLING_ENABLED = True
    settings.STRIPE_SECRET_KEY = "sk_test_0123456789"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.BILLING_GRACE_DAYS = 7
    settings.FRONTEND_URL = "https://app.example.com"


@pytest.fixture
def plan(db: Any) -> Plan:
    return Plan.objects.create(
        slug="premium",
        name="Premium",
        price_amount=1500,
        currency="gbp",
        interval="month",
        stripe_price_id="price_premium",
        entitlements=["full_length_mocks", "readiness", "unlimited_new_questions"],
    )


@pytest.fixture
def mocks_plan(db: Any) -> Plan:
    return Plan.objects.create(
        slug="mocks",
        name="Mocks only",
        price_amount=500,
        currency="gbp",
        interval="month",
        stripe_price_id="price_mocks",
        entitlements=["full_length_mocks"],
        order=1,
    )


@dataclass
class FakeStripe:
    """Stands in for :mod:`apps.billing.gateway` (the only stand-in): records each call and
    answers what Stripe would, or fails like an unreachable Stripe when ``down``."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    down: bool = False

    def _call(self, name: str, kwargs: dict[str, Any]) -> None:
        self.calls.append((name, kwargs))
        if self.down:
            raise PaymentProviderUnavailable()

    def create_checkout_session(self, **kwargs: Any) -> str:
        self._call("checkout", kwargs)
        return "https://checkout.stripe.com/c/pay/cs_test_1"

    def create_portal_session(self, **kwargs: Any) -> str:
        self._call("portal", kwargs)
        return "https://billing.stripe.com/p/session/test_1"

    def cancel_subscription(self, **kwargs: Any) -> None:
        self._call("cancel", kwargs)


@pytest.fixture
def fake_stripe(monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    fake = FakeStripe()
    monkeypatch.setattr(gateway, "create_checkout_session", fake.create_checkout_session)
    monkeypatch.setattr(gateway, "create_portal_session", fake.create_portal_session)
    monkeypatch.setattr(gateway, "cancel_subscription", fake.cancel_subscription)
    return fake


# --- Events ---------------------------------------------------------------------------------

_counter = iter(range(1, 1_000_000))


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def event(event_type: str, obj: dict[str, Any], *, created: datetime, event_id: str = "") -> dict:
    return {
        "id": event_id or f"evt_test_{next(_counter)}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "type": event_type,
        "created": _ts(created),
        "livemode": False,
        "data": {"object": obj},
    }


def checkout_completed(
    *,
    user_id: int,
    plan: Plan,
    created: datetime = NOW,
    customer: str = "cus_test_1",
    subscription: str = "sub_test_1",
    event_id: str = "",
) -> dict:
    metadata = {"user_id": str(user_id), "plan_id": str(plan.pk)}
    return event(
        "checkout.session.completed",
        {
            "id": f"cs_test_{next(_counter)}",
            "object": "checkout.session",
            "mode": "subscription",
            "status": "complete",
            "payment_status": "paid",
            "client_reference_id": str(user_id),
            "customer": customer,
            "subscription": subscription,
            "metadata": metadata,
        },
        created=created,
        event_id=event_id,
    )


def subscription_event(
    *,
    status: str,
    price_id: str = "price_premium",
    event_type: str = "customer.subscription.updated",
    created: datetime = NOW,
    period_end: datetime = PERIOD_END,
    customer: str = "cus_test_1",
    subscription: str = "sub_test_1",
    metadata: dict[str, str] | None = None,
    event_id: str = "",
) -> dict:
    """A subscription snapshot as API version 2025-03-31 sends it (the period on the item)."""
    return event(
        event_type,
        {
            "id": subscription,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "cancel_at_period_end": False,
            "canceled_at": _ts(created) if status == "canceled" else None,
            "metadata": metadata or {},
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": f"si_test_{next(_counter)}",
                        "price": {"id": price_id, "object": "price"},
                        "current_period_end": _ts(period_end),
                    }
                ],
            },
        },
        created=created,
        event_id=event_id,
    )


def signed(body: dict, *, secret: str = WEBHOOK_SECRET, at: float | None = None) -> tuple[str, str]:
    """The JSON body and its ``Stripe-Signature`` header, signed by the library's own code."""
    payload = json.dumps(body)
    timestamp = int(at if at is not None else time.time())
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return payload, header


def deliver(client: APIClient, body: dict, **sign: Any) -> Any:
    """Posts the event to the webhook the way Stripe does (no token, a signature header)."""
    payload, header = signed(body, **sign)
    return client.post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
