"""What a user is entitled to use, for ``/me``: a port that billing (above) provides.

``accounts`` may not import billing (apps/core/ports.py); billing provides the implementation
from its ``AppConfig.ready()``. Other apps ask billing directly
(``apps.billing.entitlements.has_entitlement``); this port only lets the profile show the list.
"""

from __future__ import annotations

from typing import Any, Protocol

from apps.core.ports import Port


class EntitlementsProvider(Protocol):
    def __call__(self, user: Any) -> list[str]: ...


entitlements_provider: Port[EntitlementsProvider] = Port(
    "accounts.entitlements", description="The names of the entitlements a user has (for /me)."
)
