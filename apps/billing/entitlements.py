"""The one check of what a user may use: ``has_entitlement(user, name)``.

Any app may ask (billing sits just above accounts)::

    from apps.billing.entitlements import Entitlement, has_entitlement

    if not has_entitlement(user, Entitlement.FULL_LENGTH_MOCKS):
        raise EntitlementRequired(Entitlement.FULL_LENGTH_MOCKS)

With billing off (``BILLING_ENABLED``, the default) everyone has every entitlement and no query
is made. With it on, staff have every entitlement (they author and check the content) and a
learner has those of their subscriptions that entitle them now
(``Subscription.objects.entitling``). An unknown name is a programming error (``ValueError``),
not a silent refusal.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.billing.exceptions import EntitlementRequired
from apps.billing.models import ALL_ENTITLEMENTS, Entitlement
from apps.billing.selectors import paid_entitlements

__all__ = [
    "ALL_ENTITLEMENTS",
    "Entitlement",
    "EntitlementRequired",
    "billing_enabled",
    "entitlement_names",
    "entitlements_of",
    "has_entitlement",
    "require_entitlement",
]


def billing_enabled() -> bool:
    return bool(settings.BILLING_ENABLED)


def entitlements_of(user: Any) -> frozenset[str]:
    """Every entitlement ``user`` (a User, an anonymous user or ``None``) has now."""
    if not billing_enabled():
        return ALL_ENTITLEMENTS
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    if getattr(user, "is_staff", False):
        return ALL_ENTITLEMENTS
    return paid_entitlements(user_id=user.pk, at=timezone.now())


def has_entitlement(user: Any, name: str) -> bool:
    """Whether ``user`` may use what ``name`` stands for (see the module docstring)."""
    if name not in ALL_ENTITLEMENTS:
        raise ValueError(f"Unknown entitlement {name!r}; known: {sorted(ALL_ENTITLEMENTS)}.")
    return name in entitlements_of(user)


def require_entitlement(user: Any, name: str) -> None:
    """Raises :class:`EntitlementRequired` (403 ``entitlement_required``) unless ``user`` has
    ``name``."""
    if not has_entitlement(user, name):
        raise EntitlementRequired(name)


def entitlement_names(user: Any) -> list[str]:
    """The user's entitlements as a sorted list (``/me``'s ``entitlements``)."""
    return sorted(entitlements_of(user))
