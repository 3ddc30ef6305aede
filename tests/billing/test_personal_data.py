"""GDPR: the export holds the billing section; deletion keeps what tax law needs (the record of
the sale, without the person) and cancels the subscription at Stripe."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.billing.models import Customer, EntitlementChange, Plan, Subscription
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.billing.conftest import FakeStripe, checkout_completed, deliver, subscription_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("billing_on")]


@pytest.fixture
def subscribed(user: User, plan: Plan) -> User:
    stripe_side = APIClient()
    deliver(stripe_side, checkout_completed(user_id=user.pk, plan=plan))
    deliver(stripe_side, subscription_event(status="active"))
    return user


def test_export_holds_the_callers_billing_data_only(
    subscribed: User, user_client: APIClient, other_client: APIClient
) -> None:
    section = user_client.get("/api/v1/me/export").json()["billing"]
    assert section["stripe_customer_id"] == "cus_test_1"
    assert [(s["plan"], s["status"]) for s in section["subscriptions"]] == [("premium", "active")]
    assert section["subscriptions"][0]["stripe_subscription_id"] == "sub_test_1"
    assert [h["after"] for h in section["entitlement_history"]] == [
        ["full_length_mocks", "readiness", "unlimited_new_questions"]
    ]
    assert other_client.get("/api/v1/me/export").json()["billing"] == {
        "stripe_customer_id": None,
        "subscriptions": [],
        "entitlement_history": [],
    }


def test_deletion_keeps_the_sale_without_the_person_and_cancels_at_stripe(
    subscribed: User,
    plan: Plan,
    user_client: APIClient,
    fake_stripe: FakeStripe,
    django_capture_on_commit_callbacks: Any,
) -> None:
    user_id = subscribed.pk
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.delete("/api/v1/me", {"password": DEFAULT_PASSWORD})
    assert response.status_code == 204

    kept = Subscription.objects.get()
    assert (kept.user_id, kept.plan_id, kept.status) == (None, plan.pk, "active")
    assert kept.stripe_customer_id == "cus_test_1"  # finds the invoices at Stripe
    assert not Customer.objects.filter(user_id=user_id).exists()
    assert not EntitlementChange.objects.filter(user_id=user_id).exists()
    assert fake_stripe.calls == [("cancel", {"subscription_id": "sub_test_1"})]


def test_deleting_someone_without_a_subscription_calls_nobody(
    user: User, user_client: APIClient, fake_stripe: FakeStripe,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.delete("/api/v1/me", {"password": DEFAULT_PASSWORD}).status_code == 204
    assert fake_stripe.calls == []
