"""The staff tool: plans are edited, the rest is read-only (state arrives from Stripe)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.billing.models import EntitlementChange, Plan, Subscription
from tests.billing.conftest import checkout_completed, deliver, subscription_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("billing_on")]


@pytest.fixture
def staff(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def subscribed(user: User, plan: Plan) -> User:
    deliver(APIClient(), checkout_completed(user_id=user.pk, plan=plan))
    deliver(APIClient(), subscription_event(status="active"))
    return user


def test_every_billing_page_renders(staff: Client, subscribed: User, plan: Plan) -> None:
    for model in ("plan", "subscription", "customer", "processedevent", "entitlementchange"):
        response = staff.get(f"/admin/billing/{model}/")
        assert response.status_code == 200, model
    history = staff.get("/admin/billing/entitlementchange/", {"q": subscribed.email})
    assert "customer.subscription.updated" in history.content.decode()
    subscription = Subscription.objects.get()
    assert staff.get(f"/admin/billing/subscription/{subscription.pk}/change/").status_code == 200
    assert staff.get(f"/admin/billing/plan/{plan.pk}/change/").status_code == 200


def test_staff_add_a_plan_and_misspelt_entitlements_are_refused(staff: Client) -> None:
    form: dict[str, Any] = {
        "slug": "exam-month",
        "name": "Exam month",
        "description": "",
        "price_amount": "2500",
        "currency": "gbp",
        "interval": "month",
        "stripe_price_id": "price_exam_month",
        "entitlements": "full_length_mocks,readiness",
        "is_active": "on",
        "order": "2",
    }
    assert staff.post("/admin/billing/plan/add/", form).status_code == 302
    assert Plan.objects.get(slug="exam-month").entitlements == ["full_length_mocks", "readiness"]

    refused = staff.post(
        "/admin/billing/plan/add/", {**form, "slug": "typo", "stripe_price_id": "price_typo",
                                     "entitlements": "readyness"},
    )  # fmt: skip
    assert refused.status_code == 200
    assert not Plan.objects.filter(slug="typo").exists()


def test_subscriptions_and_history_cannot_be_changed(staff: Client, subscribed: User) -> None:
    subscription = Subscription.objects.get()
    change = EntitlementChange.objects.get()
    assert staff.get("/admin/billing/subscription/add/").status_code == 403
    assert (
        staff.post(
            f"/admin/billing/subscription/{subscription.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        staff.post(
            f"/admin/billing/entitlementchange/{change.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert Subscription.objects.filter(pk=subscription.pk, status="active").exists()


def test_a_sold_plan_cannot_be_deleted(staff: Client, subscribed: User, plan: Plan) -> None:
    assert staff.post(f"/admin/billing/plan/{plan.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Plan.objects.filter(pk=plan.pk).exists()


def test_candidates_cannot_use_the_billing_admin(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = client.get("/admin/billing/subscription/")
    assert response.status_code == 302  # to the admin login


def test_feature_flags_are_edited_in_the_admin(staff: Client) -> None:
    assert staff.get("/admin/waffle/flag/").status_code == 200
    assert staff.get("/admin/waffle/flag/add/").status_code == 200
