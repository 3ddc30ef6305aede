"""Sentry error reporting, on only when a DSN is configured (called from the base settings)."""

from __future__ import annotations

from typing import Any


def configure_sentry(
    *,
    dsn: str,
    release: str,
    environment: str,
    traces_sample_rate: float = 0.0,
    **options: Any,
) -> bool:
    """Initialises the Sentry SDK with the Django and Celery integrations; no-op without a DSN.

    Events carry ``release`` and ``environment`` so a regression can be tied to a deploy. No
    personal data is sent (``send_default_pii`` is off). ``options`` are passed through to
    ``sentry_sdk.init`` (tests use it to supply a transport).
    """
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        release=release,
        environment=environment,
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        **options,
    )
    return True
