"""The billing endpoints through real authentication: off by default (the journey unchanged),
and on with test keys (checkout and portal reach Stripe through the gateway's stand-in)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.billing.models import Customer, Plan, Subscription
from tests.billing.conftest import NOW, PERIOD_END, FakeStripe, checkout_completed, deliver
from tests.billing.conftest import subscription_event as sub_event
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ALL = ["full_length_mocks", "readiness", "unlimited_new_questions"]
PAYMENT_ENDPOINTS = [
    ("get", "/api/v1/billing/plans"),
    ("post", "/api/v1/billing/checkout"),
    ("post", "/api/v1/billing/portal"),
]


def _subscribe(user: User, plan: Plan) -> None:
    stripe_side = APIClient()
    deliver(stripe_side, checkout_completed(user_id=user.pk, plan=plan))
    deliver(stripe_side, sub_event(status="active"))


# --- Billing off (the default) ------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PAYMENT_ENDPOINTS)
def test_payment_endpoints_say_billing_is_off(
    user_client: APIClient, plan: Plan, fake_stripe: FakeStripe, method: str, path: str
) -> None:
    response = getattr(user_client, method)(path, {"plan_id": plan.pk}, format="json")
    assert response.status_code == 404
    assert response.json() == {
        "code": "billing_disabled",
        "message": "Billing is not enabled on this server: every feature is available.",
    }
    assert fake_stripe.calls == []


def test_subscription_off_shows_every_entitlement(
    user_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(1):  # the session lookup of authentication only
        response = user_client.get("/api/v1/billing/subscription")
    assert response.status_code == 200
    assert response.json() == {
        "enabled": False,
        "plan": None,
        "status": None,
        "current_period_end": None,
        "entitlements": ALL,
    }


def test_me_lists_every_entitlement_with_billing_off(user_client: APIClient) -> None:
    assert user_client.get("/api/v1/me").json()["entitlements"] == ALL


@pytest.mark.parametrize(
    ("method", "path"),
    [*PAYMENT_ENDPOINTS, ("get", "/api/v1/billing/subscription")],
)
def test_billing_endpoints_need_a_token(api_client: APIClient, method: str, path: str) -> None:
    response = getattr(api_client, method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- Billing on --------------------------------------------------------------------------


@pytest.mark.usefixtures("billing_on")
class TestBillingOn:
    def test_plans_lists_the_plans_on_sale(
        self,
        user_client: APIClient,
        plan: Plan,
        mocks_plan: Plan,
        django_assert_max_num_queries: Any,
    ) -> None:
        Plan.objects.create(
            slug="old", name="Old", price_amount=1, interval="year", stripe_price_id="price_old",
            is_active=False,
        )  # fmt: skip
        with django_assert_max_num_queries(2):
            response = user_client.get("/api/v1/billing/plans")
        assert response.status_code == 200
        assert response.json() == [
            {
                "id": plan.pk,
                "slug": "premium",
                "name": "Premium",
                "description": "",
                "price_amount": 1500,
                "currency": "gbp",
                "interval": "month",
                "entitlements": ALL,
            },
            {
                "id": mocks_plan.pk,
                "slug": "mocks",
                "name": "Mocks only",
                "description": "",
                "price_amount": 500,
                "currency": "gbp",
                "interval": "month",
                "entitlements": ["full_length_mocks"],
            },
        ]

    def test_subscription_without_one_has_no_paid_entitlements(
        self, user_client: APIClient
    ) -> None:
        assert user_client.get("/api/v1/billing/subscription").json() == {
            "enabled": True,
            "plan": None,
            "status": None,
            "current_period_end": None,
            "entitlements": [],
        }
        assert user_client.get("/api/v1/me").json()["entitlements"] == []

    def test_subscription_shows_the_plan_and_state(
        self, user: User, user_client: APIClient, plan: Plan, django_assert_max_num_queries: Any
    ) -> None:
        _subscribe(user, plan)
        with django_assert_max_num_queries(3):
            response = user_client.get("/api/v1/billing/subscription")
        assert response.json() == {
            "enabled": True,
            "plan": {"id": plan.pk, "slug": "premium", "name": "Premium"},
            "status": "active",
            "current_period_end": PERIOD_END.isoformat().replace("+00:00", "Z"),
            "entitlements": ALL,
        }
        assert user_client.get("/api/v1/me").json()["entitlements"] == ALL

    def test_me_asks_billing_in_one_more_query(
        self, user: User, user_client: APIClient, plan: Plan, django_assert_num_queries: Any
    ) -> None:
        _subscribe(user, plan)
        with django_assert_num_queries(2):  # the session lookup, then the entitlements
            response = user_client.get("/api/v1/me")
        assert response.json()["entitlements"] == ALL

    def test_staff_have_every_entitlement(self, editor_client: APIClient) -> None:
        body = editor_client.get("/api/v1/billing/subscription").json()
        assert (body["plan"], body["entitlements"]) == (None, ALL)

    def test_checkout_returns_stripes_url_for_the_plan(
        self, user: User, user_client: APIClient, plan: Plan, fake_stripe: FakeStripe
    ) -> None:
        response = user_client.post("/api/v1/billing/checkout", {"plan_id": plan.pk})
        assert response.status_code == 200, response.content
        assert response.json() == {"url": "https://checkout.stripe.com/c/pay/cs_test_1"}
        assert fake_stripe.calls == [
            (
                "checkout",
                {
                    "price_id": "price_premium",
                    "user_id": user.pk,
                    "plan_id": plan.pk,
                    "customer_id": None,
                    "customer_email": user.email,
                    "success_url": (
                        "https://app.example.com/billing/success?session_id={CHECKOUT_SESSION_ID}"
                    ),
                    "cancel_url": "https://app.example.com/billing/plans",
                },
            )
        ]
        assert not Subscription.objects.exists()  # nothing until Stripe says it is paid

    def test_a_returning_customer_checks_out_as_the_same_stripe_customer(
        self, user: User, user_client: APIClient, plan: Plan, fake_stripe: FakeStripe
    ) -> None:
        Customer.objects.create(user=user, stripe_customer_id="cus_back")
        user_client.post("/api/v1/billing/checkout", {"plan_id": plan.pk})
        assert fake_stripe.calls[0][1]["customer_id"] == "cus_back"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "plan_id"),
            ({"plan_id": "x"}, "plan_id"),
            ({"plan_id": 0}, "plan_id"),
            ({"plan_id": 999999}, "plan_id"),
            ({"plan_id": 1, "coupon": "FREE"}, "coupon"),
        ],
    )
    def test_checkout_refuses_bad_input(
        self,
        user_client: APIClient,
        plan: Plan,
        fake_stripe: FakeStripe,
        body: dict[str, Any],
        field: str,
    ) -> None:
        response = user_client.post("/api/v1/billing/checkout", body, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "validation_error"
        assert field in response.json()["fields"]
        assert fake_stripe.calls == []

    def test_checkout_refuses_a_retired_plan(
        self, user_client: APIClient, plan: Plan, fake_stripe: FakeStripe
    ) -> None:
        Plan.objects.filter(pk=plan.pk).update(is_active=False)
        response = user_client.post("/api/v1/billing/checkout", {"plan_id": plan.pk})
        assert response.status_code == 400
        assert response.json()["fields"] == {"plan_id": ["No plan on sale has this id."]}
        assert fake_stripe.calls == []

    def test_checkout_while_subscribed_is_409(
        self, user: User, user_client: APIClient, plan: Plan, fake_stripe: FakeStripe
    ) -> None:
        _subscribe(user, plan)
        response = user_client.post("/api/v1/billing/checkout", {"plan_id": plan.pk})
        assert response.status_code == 409
        assert response.json()["code"] == "already_subscribed"
        assert fake_stripe.calls == []

    def test_another_users_subscription_does_not_count(
        self, other_user: User, user_client: APIClient, plan: Plan, fake_stripe: FakeStripe
    ) -> None:
        _subscribe(other_user, plan)
        assert user_client.get("/api/v1/billing/subscription").json()["plan"] is None
        response = user_client.post("/api/v1/billing/checkout", {"plan_id": plan.pk})
        assert response.status_code == 200

    def test_stripe_unreachable_is_503(
        self, user_client: APIClient, plan: Plan, fake_stripe: FakeStripe
    ) -> None:
        fake_stripe.down = True
        response = user_client.post("/api/v1/billing/checkout", {"plan_id": plan.pk})
        assert response.status_code == 503
        assert response.json()["code"] == "payment_provider_unavailable"

    def test_portal_opens_for_the_callers_customer(
        self, user: User, user_client: APIClient, plan: Plan, fake_stripe: FakeStripe
    ) -> None:
        _subscribe(user, plan)
        response = user_client.post("/api/v1/billing/portal")
        assert response.status_code == 200
        assert response.json() == {"url": "https://billing.stripe.com/p/session/test_1"}
        assert fake_stripe.calls == [
            (
                "portal",
                {"customer_id": "cus_test_1", "return_url": "https://app.example.com/billing"},
            )
        ]

    def test_portal_before_any_checkout_is_409(
        self, user: User, other_user: User, plan: Plan, fake_stripe: FakeStripe
    ) -> None:
        _subscribe(other_user, plan)  # someone else's customer is not the caller's
        response = client_for(user).post("/api/v1/billing/portal")
        assert response.status_code == 409
        assert response.json()["code"] == "no_billing_account"
        assert fake_stripe.calls == []

    def test_a_lapsed_subscription_shows_its_state_and_no_entitlements(
        self, user: User, plan: Plan, time_machine: Any
    ) -> None:
        _subscribe(user, plan)
        time_machine.move_to(NOW.replace(year=2027, month=3), tick=False)  # no renewal heard
        body = client_for(user).get("/api/v1/billing/subscription").json()
        assert (body["status"], body["entitlements"]) == ("active", [])
