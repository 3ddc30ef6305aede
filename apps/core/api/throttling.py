"""The request throttles: the general ones (``user``, ``anon``) and the sensitive scoped ones.

General throttles: DRF's ``SimpleRateThrottle`` keeps the time of every request in the window as
a list in the cache: it reads the list and writes it back on every request (two round trips, and
a list of up to the rate's size, 3,000 entries for ``user``, unpickled and pickled each time).
These throttles run on every request, so with Redis they count instead: one counter per caller
and fixed window, ``INCR`` and ``EXPIRE`` sent together in one round trip. A fixed window lets a
caller through up to twice the rate across a window's edge, which is fine for these general
limits. Like every other cache use here, a cache that is down fails open for them (the request
is let through and the failure logged), never a 5xx.

Sensitive scoped throttles (:class:`DurableScopedRateThrottle`: login, registration, password
reset) keep an exact sliding window, in Redis as a sorted set of request times per caller,
trimmed, counted and added to by one Lua script: one round trip, atomic (DRF's read-then-write
let concurrent requests through together). When Redis cannot be reached they do not fail open:
the subclass's :meth:`~DurableScopedRateThrottle.durable_wait` counts in a durable store
instead (PostgreSQL, in ``apps/accounts/api/throttling.py``), which costs database writes only
while Redis is down.

Without Redis (the embedded development default) DRF's own implementations run.
"""

from __future__ import annotations

import logging
import secrets
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


# KEYS[1]: the caller's sorted set; ARGV: now, window (s), limit, a unique member. Returns ""
# when the request is let through (and recorded), otherwise the seconds until the oldest
# recorded request leaves the window. Scores are request times, so trimming is by score.
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - duration)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(duration) + 1)
  return ''
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + duration - now)
"""


class DurableScopedRateThrottle(throttling.ScopedRateThrottle):
    """A scoped throttle (the view's ``throttle_scope``) that does not fail open.

    The fast path is the sliding window in Redis described above. If Redis raises (down,
    unreachable, timing out), :meth:`durable_wait` decides instead; this base class has no
    durable store and lets the request through, as the general throttles do.
    """

    def allow_request(self, request: Any, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        client = _redis_client()
        if client is None:
            return throttling.SimpleRateThrottle.allow_request(self, request, view)
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        try:
            reply = client.eval(
                _SLIDING_WINDOW,
                1,
                cache.make_key(self.key),
                repr(self.now),
                self.duration,
                self.num_requests,
                f"{self.now!r}:{secrets.token_hex(6)}",
            )
        except Exception:
            logger.warning("throttle store unavailable: durable limit used", exc_info=True)
            durable = self.durable_wait(
                key=self.key, limit=int(self.num_requests or 0), window=int(self.duration or 0)
            )
            self.retry_in = durable or 0.0
            return not durable
        text = reply.decode() if isinstance(reply, bytes) else str(reply or "")
        self.retry_in = max(1.0, float(text)) if text else 0.0
        return not text

    def durable_wait(self, *, key: str, limit: int, window: int) -> float | None:
        """With Redis unreachable: counts this request for ``key`` (``limit`` per ``window``
        seconds) in a durable store; 0 or None lets it through, else the seconds to wait. The
        base class has no store: None, the request is let through."""
        return None

    def wait(self) -> float | None:
        if not hasattr(self, "retry_in"):
            return super().wait()
        return max(1.0, self.retry_in)
