"""Celery tasks for billing: thin and idempotent, they call services."""

from __future__ import annotations

from celery import shared_task

from apps.billing import services
from apps.billing.exceptions import PaymentProviderUnavailable


@shared_task(
    name="billing.cancel_stripe_subscription",
    autoretry_for=(PaymentProviderUnavailable,),
    retry_backoff=60,
    retry_backoff_max=6 * 3600,
    retry_jitter=True,
    max_retries=10,
    soft_time_limit=50,
    time_limit=60,
)
def cancel_stripe_subscription(subscription_id: str) -> None:
    """After an account's deletion; cancelling twice is harmless (Stripe refuses, we log)."""
    services.cancel_stripe_subscription(subscription_id=subscription_id)
