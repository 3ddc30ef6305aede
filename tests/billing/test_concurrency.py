"""Stripe retries a webhook it thinks was lost, sometimes while the first delivery is still
running: concurrent deliveries, each on its own connection, still apply an event once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.billing.models import EntitlementChange, Plan, ProcessedEvent, Subscription
from tests.accounts.factories import UserFactory
from tests.billing.conftest import NOW, checkout_completed, deliver, subscription_event

CONCURRENT = 6

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("billing_on")]


def _race(send: Callable[[int], Any]) -> list[dict[str, Any]]:
    """Runs ``send(i)`` from CONCURRENT threads at once, each with its own connection."""
    barrier = threading.Barrier(CONCURRENT)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            response = send(i)
            with lock:
                results.append({"status": response.status_code, **response.json()})
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _plan() -> Plan:
    return Plan.objects.create(
        slug="premium",
        name="Premium",
        price_amount=1500,
        interval="month",
        stripe_price_id="price_premium",
        entitlements=["readiness"],
    )


def test_concurrent_deliveries_of_one_event_apply_it_once() -> None:
    user, plan = UserFactory(), _plan()
    deliver(APIClient(), checkout_completed(user_id=user.pk, plan=plan))
    update = subscription_event(status="active", event_id="evt_race")

    results = _race(lambda _: deliver(APIClient(), update))

    assert len(results) == CONCURRENT
    assert all(r["status"] == 200 and r["outcome"] == "applied" for r in results)
    assert sorted(r["duplicate"] for r in results) == [False] + [True] * (CONCURRENT - 1)
    assert ProcessedEvent.objects.filter(stripe_event_id="evt_race").count() == 1
    assert EntitlementChange.objects.filter(user=user).count() == 1


def test_concurrent_first_events_of_a_new_subscription_make_one_row() -> None:
    """Different events about a subscription we have never seen race to create its row."""
    user, _ = UserFactory(), _plan()
    metadata = {"user_id": str(user.pk)}
    events = [
        subscription_event(status="active", metadata=metadata, created=NOW.replace(second=i))
        for i in range(CONCURRENT)
    ]

    results = _race(lambda i: deliver(APIClient(), events[i]))

    assert sorted(r["status"] for r in results) == [200] * CONCURRENT
    assert {r["outcome"] for r in results} <= {"applied", "stale"}
    subscription = Subscription.objects.get()
    # Whatever the order they ran in, the newest event's state is the one kept.
    assert subscription.state_as_of == NOW.replace(second=CONCURRENT - 1)
    assert EntitlementChange.objects.filter(user=user).count() == 1
