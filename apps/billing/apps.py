from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, subscriptions and entitlements (off by default: everyone has every entitlement).
    Just above accounts so that any app may ask ``has_entitlement``."""

    name = "apps.billing"
    label = "billing"
