"""Per-learner caches derived from the learning record, and their invalidation.

The learning record is the one writer of a learner's progress, so the names of the caches that
depend on it live here; higher layers (the dashboard) read and fill them through
:func:`read_user_cache` / :func:`write_user_cache`, and every change that must show at once
calls :func:`invalidate_user_caches`, which deletes the entries.

Deleting is not enough on its own: a reader computing a value while an answer commits could
store a value computed from the old data after the deletion, and an invalidation sent while
Redis hangs is lost, leaving the old value to be served once Redis answers again. So every
entry is stamped with the learner's *version*, which lives in PostgreSQL
(``LearnerState.version``, moved forward by every write to the learner's record in the
writer's own transaction: answers, heartbeats, rebuilds, dismissals). The version is read
*before* a value is computed and an entry is served only while it is still current; reading it
is one primary-key lookup on the hit path.

The cache is a speed-up, never a dependency: every call here swallows cache errors (Redis down
or unreachable), so the caller computes the answer instead of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from apps.analytics.models import LearnerState
from apps.core import sql

logger = logging.getLogger("apps.analytics.cache")

DASHBOARD = "dashboard"
USER_CACHES = (DASHBOARD,)
_VERSION = "v2"


def user_cache_key(name: str, user_id: int) -> str:
    return f"{name}:{_VERSION}:{user_id}"


@dataclass(frozen=True)
class CachedRead:
    value: Any  # None on a miss
    generation: str | None  # the learner's version seen before computing: pass to write_user_cache


LEARNER_VERSION = sql.CompiledQuery(
    lambda *, user_id: LearnerState.objects.filter(user_id=user_id).values("version"),
    user_id=-9_000_001,
)
"""The learner's version row; on every dashboard read, so compiled once (apps/core/sql.py)."""


def learner_version(user_id: int) -> str:
    """The learner's current version from the database ("0" for someone with no record yet)."""
    row = LEARNER_VERSION.fetch_first(user_id=user_id)
    return str(row["version"] if row and row["version"] else 0)


def read_user_cache(name: str, user_id: int) -> CachedRead:
    key = user_cache_key(name, user_id)
    version = learner_version(user_id)
    try:
        entry = cache.get(key)
    except Exception:
        logger.warning("cache read failed", extra={"key": key}, exc_info=True)
        return CachedRead(value=None, generation=version)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        return CachedRead(value=entry[1], generation=version)
    return CachedRead(value=None, generation=version)


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
    """Deletes every per-learner cache of these users (not merely letting it expire). The
    version stamp makes a stale entry unservable even when this delete is lost."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    keys = [user_cache_key(name, uid) for uid in ids for name in USER_CACHES]
    try:
        cache.delete_many(keys)
    except Exception:
        logger.warning("cache invalidation failed", extra={"keys": keys}, exc_info=True)
