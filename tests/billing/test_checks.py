"""Billing on without its Stripe keys does not start."""

from __future__ import annotations

from typing import Any

from django.core.checks import run_checks

from apps.billing.checks import stripe_keys_when_enabled


def test_billing_off_needs_no_keys(settings: Any) -> None:
    settings.BILLING_ENABLED = False
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    assert stripe_keys_when_enabled() == []


def test_billing_on_without_keys_stops_start_up(settings: Any) -> None:
    settings.BILLING_ENABLED = True
    settings.STRIPE_SECRET_KEY = "sk_test_1"
    settings.STRIPE_WEBHOOK_SECRET = ""
    errors = [e for e in run_checks() if e.id == "billing.E001"]
    assert len(errors) == 1
    assert "STRIPE_WEBHOOK_SECRET" in errors[0].msg
    assert "STRIPE_SECRET_KEY" not in errors[0].msg

    settings.STRIPE_WEBHOOK_SECRET = "whsec_1"
    assert stripe_keys_when_enabled() == []
