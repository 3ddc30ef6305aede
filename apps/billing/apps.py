from typing import Any

from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, subscriptions and entitlements (off by default: everyone has every entitlement).
    Just above accounts so that any app may ask ``has_entitlement``."""

    name = "apps.billing"
    label = "billing"

    def ready(self) -> None:
        # accounts sits below: /me's entitlements and the GDPR export's billing section reach
        # it through its ports (apps.core.ports); deletion tells billing through a signal.
        from django.contrib.auth import get_user_model
        from django.core.checks import register
        from django.db.models.signals import pre_delete

        from apps.accounts.entitlements import entitlements_provider
        from apps.accounts.personal_data import personal_data_sections
        from apps.billing.checks import stripe_keys_when_enabled
        from apps.billing.entitlements import entitlement_names
        from apps.billing.selectors import personal_data

        register(stripe_keys_when_enabled)
        entitlements_provider.provide(entitlement_names)
        personal_data_sections.provide("billing", personal_data)
        pre_delete.connect(
            _cancel_subscriptions_on_deletion,
            sender=get_user_model(),
            dispatch_uid="billing.cancel_subscriptions_on_deletion",
        )


def _cancel_subscriptions_on_deletion(sender: Any, instance: Any, **kwargs: Any) -> None:
    """An account being deleted stops paying: its open subscriptions are canceled at Stripe
    once the deletion commits. The subscription rows stay, without the user (tax records)."""
    from apps.billing.services import cancel_subscriptions_of

    cancel_subscriptions_of(user_id=instance.pk)
