"""System check: billing switched on without its Stripe keys would take money it cannot record
(no webhook secret: every event refused) or not sell at all (no API key). ``manage.py check``
and the deploy check refuse to start that way (``billing.E001``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error


def stripe_keys_when_enabled(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.BILLING_ENABLED:
        return []
    missing = [
        name
        for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
        if not getattr(settings, name)
    ]
    if not missing:
        return []
    return [
        Error(
            "BILLING_ENABLED is set but " + " and ".join(missing) + " is empty.",
            hint="Set the keys of the Stripe account (environment), or turn billing off.",
            id="billing.E001",
        )
    ]
