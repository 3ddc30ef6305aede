"""``has_entitlement``: the one check. Off, everyone has everything without a query; on, a
learner has what their entitling subscriptions grant, staff everything, nobody else anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User
from apps.billing.entitlements import (
    Entitlement,
    EntitlementRequired,
    entitlement_names,
    entitlements_of,
    has_entitlement,
    require_entitlement,
)
from apps.billing.models import Plan, Subscription, SubscriptionStatus
from tests.billing.conftest import NOW

pytestmark = pytest.mark.django_db


def _subscription(user: User, plan: Plan, status: str, **fields: Any) -> Subscription:
    return Subscription.objects.create(
        user=user,
        plan=plan,
        stripe_subscription_id=f"sub_{user.pk}_{status}",
        status=status,
        current_period_end=NOW + timedelta(days=30),
        state_as_of=NOW,
        **fields,
    )


def test_billing_off_everyone_has_everything_without_a_query(
    user: User, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        for name in Entitlement.values:
            assert has_entitlement(user, name)
            assert has_entitlement(AnonymousUser(), name)
            assert has_entitlement(None, name)
        require_entitlement(user, Entitlement.READINESS)
    assert entitlement_names(user) == sorted(Entitlement.values)


def test_an_unknown_name_is_a_programming_error(user: User) -> None:
    with pytest.raises(ValueError, match="full_lenght_mocks"):
        has_entitlement(user, "full_lenght_mocks")


@pytest.mark.usefixtures("billing_on")
class TestBillingOn:
    def test_nobody_has_anything_without_a_subscription(self, user: User) -> None:
        assert entitlements_of(user) == frozenset()
        assert entitlements_of(AnonymousUser()) == frozenset()
        with pytest.raises(EntitlementRequired) as refused:
            require_entitlement(user, Entitlement.FULL_LENGTH_MOCKS)
        assert (refused.value.status_code, refused.value.code) == (403, "entitlement_required")

    def test_staff_have_everything(self, editor: User) -> None:
        assert entitlements_of(editor) == frozenset(Entitlement.values)

    @pytest.mark.parametrize(
        ("status", "entitled"),
        [
            (SubscriptionStatus.TRIALING, True),
            (SubscriptionStatus.ACTIVE, True),
            (SubscriptionStatus.PAST_DUE, True),  # fell due just now: inside the grace
            (SubscriptionStatus.CANCELED, False),
            (SubscriptionStatus.UNPAID, False),
            (SubscriptionStatus.INCOMPLETE, False),
            (SubscriptionStatus.INCOMPLETE_EXPIRED, False),
            (SubscriptionStatus.PAUSED, False),
        ],
    )
    def test_which_states_entitle(
        self, user: User, mocks_plan: Plan, status: str, entitled: bool
    ) -> None:
        _subscription(user, mocks_plan, status, past_due_since=NOW)
        assert has_entitlement(user, "full_length_mocks") is entitled
        assert not has_entitlement(user, "readiness")  # not in this plan

    def test_entitlements_of_several_subscriptions_add_up(
        self, user: User, plan: Plan, mocks_plan: Plan, other_user: User
    ) -> None:
        _subscription(user, mocks_plan, SubscriptionStatus.ACTIVE)
        _subscription(other_user, plan, SubscriptionStatus.ACTIVE)
        assert entitlements_of(user) == {"full_length_mocks"}
        assert entitlements_of(other_user) == frozenset(Entitlement.values)

    def test_one_query_when_on(
        self, user: User, plan: Plan, django_assert_num_queries: Any
    ) -> None:
        _subscription(user, plan, SubscriptionStatus.ACTIVE)
        with django_assert_num_queries(1):
            assert has_entitlement(user, "readiness")
