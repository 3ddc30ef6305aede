"""Every call billing makes to Stripe's API, and nothing else: the one seam tests replace.

The functions take and return plain values (ids, URLs), so a test swaps them for a fake that
records its calls (``monkeypatch.setattr(gateway, "create_checkout_session", fake)``) and the
rest of billing runs for real. Webhook signatures are verified locally (``services``), with no
call out. A Stripe failure of any kind becomes :class:`PaymentProviderUnavailable` (503).
"""

from __future__ import annotations

import logging

import stripe
from django.conf import settings

from apps.billing.exceptions import PaymentProviderUnavailable

logger = logging.getLogger("apps.billing.gateway")

# Seconds before a call to Stripe gives up (a request thread must not hang on it).
TIMEOUT_SECONDS = 10
MAX_NETWORK_RETRIES = 2


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        logger.error("STRIPE_SECRET_KEY is not set while billing is enabled")
        raise PaymentProviderUnavailable()
    # STRIPE_API_BASE points the client at stripe-mock or a local server (development, tests).
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,  # type: ignore[arg-type]
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def create_checkout_session(
    *,
    price_id: str,
    user_id: int,
    plan_id: int,
    customer_id: str | None,
    customer_email: str,
    success_url: str,
    cancel_url: str,
) -> str:
    """A Checkout Session selling one subscription to ``price_id``; returns its URL.

    The user and plan ride along as ``client_reference_id`` and metadata, on the session and on
    the subscription it creates, so that every later webhook can be matched to the user.
    """
    metadata = {"user_id": str(user_id), "plan_id": str(plan_id)}
    params: dict[str, object] = {
        "mode": "subscription",
        "line_items": [{"price": price_id, "quantity": 1}],
        "client_reference_id": str(user_id),
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if customer_id:
        params["customer"] = customer_id
    else:
        params["customer_email"] = customer_email
    try:
        session = _client().v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    except stripe.StripeError as exc:
        logger.warning("stripe checkout session failed", extra={"error": type(exc).__name__})
        raise PaymentProviderUnavailable() from exc
    return str(session.url)


def create_portal_session(*, customer_id: str, return_url: str) -> str:
    """A customer portal session (change plan, card, cancel); returns its URL."""
    try:
        session = _client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url}
        )
    except stripe.StripeError as exc:
        logger.warning("stripe portal session failed", extra={"error": type(exc).__name__})
        raise PaymentProviderUnavailable() from exc
    return str(session.url)


def cancel_subscription(*, subscription_id: str) -> None:
    """Cancels a subscription at once (no further charge). Already canceled is fine."""
    try:
        _client().v1.subscriptions.cancel(subscription_id)
    except stripe.InvalidRequestError as exc:
        # Stripe answers 404 / invalid request for a subscription already canceled or gone.
        logger.info("stripe subscription not cancellable", extra={"error": str(exc.code)})
    except stripe.StripeError as exc:
        raise PaymentProviderUnavailable() from exc
