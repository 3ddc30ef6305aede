"""The general request throttles (``user``, ``anon``) in one cache round trip.

DRF's ``SimpleRateThrottle`` keeps the time of every request in the window as a list in the
cache: it reads the list and writes it back on every request (two round trips, and a list of up
to the rate's size, 3,000 entries for ``user``, unpickled and pickled each time). These
throttles run on every request, so with Redis they count instead: one counter per caller and
fixed window, ``INCR`` and ``EXPIRE`` sent together in one round trip. A fixed window lets a
caller through up to twice the rate across a window's edge, which is fine for these general
limits; the sensitive scoped limits (login, register, password reset, export, import) keep
DRF's exact sliding window.

Like every other cache use here, a cache that is down fails open (the request is let through
and the failure logged), never a 5xx. Without Redis (the embedded development default) DRF's
own implementation runs.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework import throttling

logger = logging.getLogger("apps.core.cache")


def _redis_client() -> Any | None:
    if "django_redis" not in settings.CACHES["default"]["BACKEND"]:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


class WindowCounterMixin:
    """For a ``SimpleRateThrottle``: counts requests per fixed window in Redis."""

    rate: str | None
    num_requests: int
    duration: int
    timer: Any

    def allow_request(self, request: Any, view: Any) -> bool:
        client = _redis_client()
        if client is None:
            return super().allow_request(request, view)  # type: ignore[misc]
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = float((window + 1) * self.duration)
        counter = cache.make_key(f"{key}:w{window}")
        try:
            pipe = client.pipeline(transaction=False)
            pipe.incr(counter)
            pipe.expire(counter, self.duration + 1)
            count, _ = pipe.execute()
        except Exception:
            logger.warning("throttle counter unavailable: request let through", exc_info=True)
            return True
        return int(count) <= self.num_requests

    def wait(self) -> float | None:
        if not hasattr(self, "window_ends_at"):
            return super().wait()  # type: ignore[misc]
        return max(1.0, self.window_ends_at - self.now)


class UserRateThrottle(WindowCounterMixin, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(WindowCounterMixin, throttling.AnonRateThrottle):
    pass
