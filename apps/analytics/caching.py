"""Per-learner caches derived from the learning record, and their invalidation.

The learning record is the one writer of a learner's progress, so the names of the caches that
depend on it live here; higher layers (the dashboard) read and fill them through
:func:`read_user_cache` / :func:`write_user_cache`, and every change that must show at once
calls :func:`invalidate_user_caches`, which deletes the entries.

A reader computing a value while an answer commits could otherwise store a value computed from
the old data after the invalidation. To close that window each learner has a *generation*
token, replaced on every invalidation: a value is stored with the token seen *before* it was
computed and is served only while that token is still current. The token and the value are
read in one round trip.

The cache is a speed-up, never a dependency: every call here swallows cache errors (Redis down
or unreachable), so the caller computes the answer instead of failing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

logger = logging.getLogger("apps.analytics.cache")

DASHBOARD = "dashboard"
USER_CACHES = (DASHBOARD,)
_VERSION = "v1"
_GENERATION_TTL = 24 * 3600


def user_cache_key(name: str, user_id: int) -> str:
    return f"{name}:{_VERSION}:{user_id}"


def _generation_key(user_id: int) -> str:
    return f"learner-gen:{_VERSION}:{user_id}"


@dataclass(frozen=True)
class CachedRead:
    value: Any  # None on a miss
    generation: str | None  # pass to write_user_cache


def read_user_cache(name: str, user_id: int) -> CachedRead:
    key, gen_key = user_cache_key(name, user_id), _generation_key(user_id)
    try:
        found = cache.get_many([key, gen_key])
    except Exception:
        logger.warning("cache read failed", extra={"key": key}, exc_info=True)
        return CachedRead(value=None, generation=None)
    generation = found.get(gen_key)
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == generation:
        return CachedRead(value=entry[1], generation=generation)
    return CachedRead(value=None, generation=generation)


def write_user_cache(
    name: str, user_id: int, value: Any, *, generation: str | None, timeout: int
) -> None:
    """Stores ``value``, computed after ``read_user_cache`` returned ``generation``."""
    key = user_cache_key(name, user_id)
    try:
        cache.set(key, (generation, value), timeout)
    except Exception:
        logger.warning("cache write failed", extra={"key": key}, exc_info=True)


def invalidate_user_caches(*, user_ids: Iterable[int]) -> None:
    """Deletes every per-learner cache of these users (not merely letting it expire) and
    retires their generation, so a value being computed meanwhile is never served."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    keys = [user_cache_key(name, uid) for uid in ids for name in USER_CACHES]
    try:
        cache.set_many({_generation_key(uid): uuid.uuid4().hex for uid in ids}, _GENERATION_TTL)
        cache.delete_many(keys)
    except Exception:
        logger.warning("cache invalidation failed", extra={"keys": keys}, exc_info=True)
