"""The scoped throttles of the public auth endpoints (login, registration, password reset), with
their durable store.

Fast path: Redis (``apps.core.api.throttling.DurableScopedRateThrottle``), no database cost.
With Redis unreachable, the same limit per caller and scope is counted in PostgreSQL
(``services.take_durable_slot``: a read, an insert and a count per request let through, one read
per request refused), so these limits never vanish with the cache. The rows hold an HMAC of the
scope and client IP, not the IP, and are flushed after two days.
"""

from __future__ import annotations

from datetime import timedelta

from apps.accounts import services
from apps.core.api.throttling import DurableScopedRateThrottle


class AuthScopedRateThrottle(DurableScopedRateThrottle):
    def durable_wait(self, *, key: str, limit: int, window: int) -> float | None:
        return float(
            services.take_durable_slot(
                bucket=f"throttle:{key}", limit=limit, window=timedelta(seconds=window)
            )
        )
