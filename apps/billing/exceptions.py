"""The refusals of billing; the core exception handler turns them into the error envelope."""

from __future__ import annotations

from apps.core.exceptions import (
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)


class BillingDisabled(NotFound):
    """Billing is off (``BILLING_ENABLED``): the payment endpoints do not exist for clients.
    404 rather than 409, because nothing the caller can do changes it; the code tells a client
    that the feature is off, not that a path is wrong."""

    code = "billing_disabled"
    default_message = "Billing is not enabled on this server: every feature is available."


class InvalidSignature(ValidationFailed):
    code = "invalid_signature"
    default_message = "The webhook signature is missing, invalid or too old."


class InvalidEvent(ValidationFailed):
    code = "invalid_event"
    default_message = "The webhook body is not a Stripe event."


class AlreadySubscribed(Conflict):
    code = "already_subscribed"
    default_message = "You already have a subscription: change it in the billing portal."


class NoBillingAccount(Conflict):
    code = "no_billing_account"
    default_message = "There is no subscription to manage yet: choose a plan first."


class PaymentProviderUnavailable(ServiceUnavailable):
    code = "payment_provider_unavailable"
    default_message = "The payment provider cannot be reached right now. Try again shortly."


class EntitlementRequired(PermissionDenied):
    """The caller's plan does not include what they asked for (403 ``entitlement_required``)."""

    code = "entitlement_required"

    def __init__(self, entitlement: str, message: str | None = None) -> None:
        self.entitlement = entitlement
        super().__init__(
            message or f"Your plan does not include this ({entitlement}). See /billing/plans."
        )
