"""The Stripe webhook: signed events grant and remove entitlements, each event counts once,
older events change nothing, bad signatures are refused. Events are built and signed here with
stripe's own signing code; the database is real."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.billing.entitlements import entitlements_of, has_entitlement
from apps.billing.models import (
    Customer,
    EntitlementChange,
    ProcessedEvent,
    Subscription,
    SubscriptionStatus,
)
from apps.practice.models import PracticeSession
from tests.billing.conftest import (
    NOW,
    WEBHOOK,
    checkout_completed,
    deliver,
    signed,
    subscription_event,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("billing_on")]

ALL = {"full_length_mocks", "readiness", "unlimited_new_questions"}


def _subscribe(client: APIClient, user: User, plan: Any) -> None:
    assert deliver(client, checkout_completed(user_id=user.pk, plan=plan)).status_code == 200
    response = deliver(client, subscription_event(status="active", created=NOW))
    assert response.json()["outcome"] == "applied"


def test_checkout_then_subscription_update_grant_the_plans_entitlements(
    api_client: APIClient, user: User, plan: Any
) -> None:
    assert entitlements_of(user) == frozenset()

    response = deliver(api_client, checkout_completed(user_id=user.pk, plan=plan))
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "applied"
    # The checkout ties the customer and the subscription; the payment's state comes next.
    assert Customer.objects.get(user=user).stripe_customer_id == "cus_test_1"
    assert Subscription.objects.get().status == SubscriptionStatus.INCOMPLETE
    assert not has_entitlement(user, "readiness")

    response = deliver(api_client, subscription_event(status="active"))
    assert response.status_code == 200
    assert response.json() == {
        "event_id": response.json()["event_id"],
        "outcome": "applied",
        "duplicate": False,
    }
    subscription = Subscription.objects.get()
    assert (subscription.user, subscription.plan, subscription.status) == (user, plan, "active")
    assert subscription.current_period_end == NOW + timedelta(days=31)
    assert entitlements_of(user) == ALL
    change = EntitlementChange.objects.get(user=user)
    assert (change.before, change.after) == ([], sorted(ALL))
    assert change.reason.startswith("customer.subscription.updated evt_")


def test_subscription_event_before_the_checkout_event_still_grants(
    api_client: APIClient, user: User, plan: Any
) -> None:
    """Stripe does not promise order: the subscription carries our metadata, so it is matched
    to the user even when it arrives first."""
    early = subscription_event(
        status="active",
        event_type="customer.subscription.created",
        metadata={"user_id": str(user.pk)},
    )
    assert deliver(api_client, early).json()["outcome"] == "applied"
    assert entitlements_of(user) == ALL
    assert deliver(api_client, checkout_completed(user_id=user.pk, plan=plan)).status_code == 200
    assert Subscription.objects.get().status == "active"
    assert EntitlementChange.objects.filter(user=user).count() == 1


def test_a_repeated_event_changes_nothing_twice(
    api_client: APIClient, user: User, plan: Any
) -> None:
    deliver(api_client, checkout_completed(user_id=user.pk, plan=plan))
    update = subscription_event(status="active", event_id="evt_repeat")
    first = deliver(api_client, update)
    again = deliver(api_client, update)

    assert first.json()["duplicate"] is False
    assert again.status_code == 200
    assert again.json() == {"event_id": "evt_repeat", "outcome": "applied", "duplicate": True}
    assert ProcessedEvent.objects.filter(stripe_event_id="evt_repeat").count() == 1
    assert EntitlementChange.objects.filter(user=user).count() == 1


def test_an_older_event_arriving_late_changes_nothing(
    api_client: APIClient, user: User, plan: Any
) -> None:
    _subscribe(api_client, user, plan)
    # A past_due snapshot created before the active one we already hold.
    late = subscription_event(status="past_due", created=NOW - timedelta(minutes=5))
    response = deliver(api_client, late)

    assert response.status_code == 200
    assert response.json()["outcome"] == "stale"
    subscription = Subscription.objects.get()
    assert (subscription.status, subscription.past_due_since) == ("active", None)
    assert ProcessedEvent.objects.get(stripe_event_id=late["id"]).outcome == "stale"
    assert entitlements_of(user) == ALL


def test_a_canceled_subscription_is_never_revived_by_a_late_update(
    api_client: APIClient, user: User, plan: Any
) -> None:
    _subscribe(api_client, user, plan)
    deleted = subscription_event(
        status="canceled", event_type="customer.subscription.deleted", created=NOW
    )
    assert deliver(api_client, deleted).json()["outcome"] == "applied"
    # Same second, delivered after: an "active" snapshot cannot undo a cancellation.
    late = subscription_event(status="active", created=NOW)
    assert deliver(api_client, late).json()["outcome"] == "stale"
    assert Subscription.objects.get().status == "canceled"
    assert entitlements_of(user) == frozenset()


def test_a_bad_signature_is_400_and_writes_nothing(
    api_client: APIClient, user: User, plan: Any
) -> None:
    body = subscription_event(status="active", metadata={"user_id": str(user.pk)})
    wrong_secret = deliver(api_client, body, secret="whsec_someone_else")
    payload, header = signed(body)
    tampered = api_client.post(
        WEBHOOK,
        data=payload.replace('"active"', '"trialing"'),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    unsigned = api_client.post(WEBHOOK, data=payload, content_type="application/json")
    replayed = deliver(api_client, body, at=NOW.timestamp() - 301)  # past the 5 minutes

    for response in (wrong_secret, tampered, unsigned, replayed):
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"
    assert not ProcessedEvent.objects.exists()
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"id": "evt_1", "type": "x"},  # no created, no data
        [1, 2],
        {"id": "evt_1", "type": "x", "created": 10**20, "data": {"object": {}}},
        {"id": "evt_1", "type": "x", "created": "today", "data": {"object": {}}},
        {"id": "", "type": "x", "created": 1, "data": {"object": {}}},
        {"id": "evt_1", "type": "x", "created": 1, "data": {"object": "sub_1"}},
    ],
)
def test_a_signed_body_that_is_not_an_event_is_400(api_client: APIClient, body: Any) -> None:
    response = deliver(api_client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_event"
    assert not ProcessedEvent.objects.exists()


def test_nonsense_inside_a_subscription_is_ignored_not_a_500(
    api_client: APIClient, user: User, plan: Any
) -> None:
    body = subscription_event(status="active", metadata={"user_id": "not a number"})
    body["data"]["object"].update(
        {"items": {"data": [{"price": 5, "current_period_end": 10**30}]}, "canceled_at": "x"}
    )
    response = deliver(api_client, body)
    assert response.status_code == 200
    subscription = Subscription.objects.get()
    assert (subscription.user, subscription.plan, subscription.current_period_end) == (
        None,
        None,
        None,
    )
    bad_status = subscription_event(status="frozen", subscription="sub_other")
    assert deliver(api_client, bad_status).json()["outcome"] == "ignored"


def test_other_event_types_are_recorded_as_ignored(api_client: APIClient) -> None:
    body = {
        "id": "evt_invoice",
        "object": "event",
        "type": "invoice.paid",
        "created": int(NOW.timestamp()),
        "data": {"object": {"id": "in_1", "object": "invoice"}},
    }
    response = deliver(api_client, body)
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert ProcessedEvent.objects.get().event_type == "invoice.paid"


def test_a_canceled_subscription_removes_paid_entitlements_and_keeps_the_learning_history(
    api_client: APIClient, user: User, plan: Any
) -> None:
    session = PracticeSession.objects.create(user=user, seed=1, requested_count=10, answered=4)
    _subscribe(api_client, user, plan)
    deleted = subscription_event(
        status="canceled",
        event_type="customer.subscription.deleted",
        created=NOW + timedelta(minutes=1),
    )
    assert deliver(api_client, deleted).json()["outcome"] == "applied"

    assert entitlements_of(user) == frozenset()
    assert not has_entitlement(user, "full_length_mocks")
    history = list(EntitlementChange.objects.filter(user=user).order_by("id"))
    assert [(c.before, c.after) for c in history] == [([], sorted(ALL)), (sorted(ALL), [])]
    # The learner and what they learned are untouched.
    assert PracticeSession.objects.get(pk=session.pk).answered == 4
    assert User.objects.filter(pk=user.pk, is_active=True).exists()


def test_past_due_keeps_entitlements_for_the_grace_then_lapses(
    api_client: APIClient, user: User, plan: Any, time_machine: Any
) -> None:
    _subscribe(api_client, user, plan)
    failed = subscription_event(status="past_due", created=NOW + timedelta(minutes=1))
    deliver(api_client, failed)
    retry = subscription_event(status="past_due", created=NOW + timedelta(days=3))
    time_machine.move_to(NOW + timedelta(days=3), tick=False)
    deliver(api_client, retry)
    # The grace runs from the first past_due, not from each retry.
    assert Subscription.objects.get().past_due_since == NOW + timedelta(minutes=1)
    assert entitlements_of(user) == ALL

    time_machine.move_to(NOW + timedelta(days=7, minutes=2), tick=False)
    assert entitlements_of(user) == frozenset()
    assert User.objects.filter(pk=user.pk).exists()

    # Paying late brings them back.
    paid = subscription_event(status="active", created=NOW + timedelta(days=8))
    time_machine.move_to(NOW + timedelta(days=8), tick=False)
    deliver(api_client, paid)
    assert entitlements_of(user) == ALL


def test_an_active_subscription_not_renewed_lapses_after_the_grace(
    api_client: APIClient, user: User, plan: Any, time_machine: Any
) -> None:
    """A renewal event that never came is not a free subscription for ever."""
    _subscribe(api_client, user, plan)
    period_end = Subscription.objects.get().current_period_end
    assert period_end is not None
    time_machine.move_to(period_end + timedelta(days=6), tick=False)
    assert entitlements_of(user) == ALL
    time_machine.move_to(period_end + timedelta(days=7, seconds=1), tick=False)
    assert entitlements_of(user) == frozenset()


def test_a_plan_change_in_the_portal_changes_the_entitlements(
    api_client: APIClient, user: User, plan: Any, mocks_plan: Any
) -> None:
    _subscribe(api_client, user, plan)
    downgrade = subscription_event(
        status="active", price_id="price_mocks", created=NOW + timedelta(minutes=1)
    )
    deliver(api_client, downgrade)
    assert Subscription.objects.get().plan == mocks_plan
    assert entitlements_of(user) == {"full_length_mocks"}


def test_events_about_someone_we_do_not_know_are_kept_without_a_user(
    api_client: APIClient, plan: Any
) -> None:
    response = deliver(api_client, subscription_event(status="active", customer="cus_unknown"))
    assert response.json()["outcome"] == "applied"
    subscription = Subscription.objects.get()
    assert (subscription.user, subscription.status) == (None, "active")
    assert not EntitlementChange.objects.exists()


def test_the_webhook_is_404_while_billing_is_off(
    api_client: APIClient, settings: Any, user: User, plan: Any
) -> None:
    settings.BILLING_ENABLED = False
    response = deliver(api_client, subscription_event(status="active"))
    assert response.status_code == 404
    assert response.json()["code"] == "billing_disabled"
    assert not ProcessedEvent.objects.exists()
