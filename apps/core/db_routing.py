"""Where a read runs: the primary, or the streaming replica when one is configured and fit.

Without ``DATABASE_REPLICA_URL`` there is no ``replica`` alias and everything here is a no-op:
every read and write goes to ``default``.

With it, a read goes to the replica only inside :class:`reading_from_replica`, which the heavy
read-only selectors carry (analytics, item statistics, the GDPR export: README "PgBouncer and
the read replica" lists them). Everything else, and every write, stays on the primary. On
entry the choice is made once for the whole block, and the block reads from the primary when:

- a transaction is open on the primary (its reads must see its own writes);
- the signed-in learner wrote within ``READ_YOUR_WRITES_SECONDS`` (read-your-writes: every
  unsafe request by a signed-in user leaves the time in Redis, shared by all app instances;
  when Redis cannot say, the learner is taken to have written);
- the replica is unfit: unreachable, its replay paused, or its replay more than
  ``DATABASE_REPLICA_MAX_LAG_SECONDS`` behind (checked at most every
  ``DATABASE_REPLICA_CHECK_SECONDS`` per process).

Why the window suffices: a replica judged fit was at most MAX_LAG behind when checked, and the
verdict is reused for at most CHECK seconds, so a read always sees every commit older than
MAX_LAG + CHECK; the learner's mark is left after their write committed, so a window of at least
that long (the settings enforce it) shows them their own writes. Writes made for a learner by a
background task leave no mark: they reach the learner's replica reads within the same bound.

Used as a decorator, a read that fails on the replica (it went away since the last check) is
marked unfit and runs again on the primary, so a replica outage is never an error for the
caller. The decorated functions must therefore be reads (safe to run twice) that evaluate their
querysets before returning.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from apps.core.request_context import user_id_var

REPLICA = "replica"
F = TypeVar("F", bound=Callable[..., Any])

# The alias the current block reads from (None: no block open, the primary).
_reading_from: ContextVar[str | None] = ContextVar("reading_from", default=None)

# One row from the replica: is replay paused, and how many seconds behind is it. Lag is zero
# when everything received has been replayed (an idle primary is no lag), else the age of the
# last transaction replayed; NULL (nothing replayed yet while WAL waits) counts as unfit.
# Not in recovery (the URL names a primary, e.g. after a failover): fit, no lag.
REPLICA_STATUS = """
SELECT
    CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS paused,
    CASE
        WHEN NOT pg_is_in_recovery() THEN 0
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
    END AS lag_seconds
"""


def replica_configured() -> bool:
    return REPLICA in connections.settings


def read_alias() -> str:
    """The alias raw SQL reads should use (apps/core/sql.py): the one the ORM would use."""
    return _reading_from.get() or DEFAULT_DB_ALIAS


def max_lag_seconds() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_MAX_LAG_SECONDS", 5.0))


def check_seconds() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_CHECK_SECONDS", 1.0))


def read_your_writes_seconds() -> float:
    """Never shorter than the staleness a fit replica may show (module docstring)."""
    configured = float(getattr(settings, "READ_YOUR_WRITES_SECONDS", 0.0))
    return max(configured, max_lag_seconds() + check_seconds())


# --- read-your-writes -------------------------------------------------------------------------


def _write_key(user_id: int) -> str:
    return f"db_routing:wrote:{user_id}"


def note_write(*, user_id: int) -> None:
    """Records that ``user_id`` has just written (after the commit). A cache that is down loses
    the mark; the learner's replica reads are then stale by at most the replica's bound."""
    window = read_your_writes_seconds()
    cache.set(_write_key(user_id), time.time(), timeout=int(window) + 1)


def wrote_recently(*, user_id: int) -> bool:
    """True when ``user_id`` wrote within the window, or when the cache cannot say (a read from
    the primary is never wrong, only dearer)."""
    key = _write_key(user_id)
    # django-redis's own client raises on a Redis failure where the cache would return a miss
    # (IGNORE_EXCEPTIONS): a miss here would send the learner to a possibly stale replica.
    client = getattr(cache, "client", None)
    try:
        written = client.get(key) if client is not None else cache.get(key)
    except Exception:
        return True
    if written is None:
        return False
    return time.time() - float(written) < read_your_writes_seconds()


class ReadYourWritesMiddleware:
    """Leaves the read-your-writes mark for every unsafe request of a signed-in user.

    Sits inside ``RequestIdMiddleware`` (which scopes the request's user id); the user id is set
    by the API authentication. Marks even a refused write: cheaper than deciding whether it
    changed anything, and it only keeps the learner on the primary a few seconds longer."""

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in self.SAFE_METHODS and replica_configured():
            user_id = user_id_var.get()
            if user_id is not None:
                note_write(user_id=user_id)
        return response


# --- the replica's fitness ----------------------------------------------------------------------


class ReplicaHealth:
    """This process's latest verdict on the replica, refreshed at most every CHECK seconds."""

    def __init__(self) -> None:
        self._probing = threading.Lock()
        self._checked_at: float | None = None
        self._fit = False

    def fit(self) -> bool:
        checked_at = self._checked_at
        if checked_at is not None and time.monotonic() - checked_at < check_seconds():
            return self._fit
        # One thread checks (a replica that does not answer costs it the connect timeout); the
        # others meanwhile go by the last verdict (none yet: the primary).
        if not self._probing.acquire(blocking=False):
            return self._fit
        try:
            self._fit = self._probe()
            self._checked_at = time.monotonic()
            return self._fit
        finally:
            self._probing.release()

    def mark_unfit(self) -> None:
        """A read failed on the replica: avoid it until the next check."""
        self._fit = False
        self._checked_at = time.monotonic()
        _close_replica_connection()

    def forget(self) -> None:
        """Drops the verdict: the next read checks again."""
        self._checked_at = None

    def _probe(self) -> bool:
        try:
            with connections[REPLICA].cursor() as cursor:
                cursor.execute(REPLICA_STATUS)
                paused, lag = cursor.fetchone()
        except (OperationalError, InterfaceError):
            _close_replica_connection()
            return False
        return replica_fit(paused=bool(paused), lag_seconds=lag, max_lag=max_lag_seconds())


def replica_fit(*, paused: bool, lag_seconds: Any, max_lag: float) -> bool:
    """The rule on one status row (:data:`REPLICA_STATUS`)."""
    if paused or lag_seconds is None:
        return False
    return float(lag_seconds) <= max_lag


def _close_replica_connection() -> None:
    with contextlib.suppress(Exception):
        connections[REPLICA].close()


replica_health = ReplicaHealth()


def _choose() -> str:
    """The alias a new reading block uses (module docstring)."""
    current = _reading_from.get()
    if current is not None:
        return current  # nested blocks keep the outer choice
    if not replica_configured():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    user_id = user_id_var.get()
    if user_id is not None and wrote_recently(user_id=user_id):
        return DEFAULT_DB_ALIAS
    return REPLICA if replica_health.fit() else DEFAULT_DB_ALIAS


# --- the marker and the router ------------------------------------------------------------------


class reading_from_replica:  # lower case: used like contextlib's lower-case managers
    """Marks a heavy read that may run on the replica (module docstring for when it does).

    As a decorator (``@reading_from_replica()``), a read that fails on the replica runs again on
    the primary. As a context manager it only marks the block: a failure propagates (and makes
    the next block avoid the replica)."""

    def __init__(self) -> None:
        self._tokens: list[Token[str | None]] = []

    def __enter__(self) -> str:
        alias = _choose()
        self._tokens.append(_reading_from.set(alias))
        return alias

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        alias = _reading_from.get()
        _reading_from.reset(self._tokens.pop())
        if alias == REPLICA and isinstance(exc, (OperationalError, InterfaceError)):
            replica_health.mark_unfit()

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def read(*args: Any, **kwargs: Any) -> Any:
            alias = DEFAULT_DB_ALIAS
            try:
                with reading_from_replica() as alias:
                    return func(*args, **kwargs)
            except (OperationalError, InterfaceError):
                if alias != REPLICA or _reading_from.get() is not None:
                    raise  # not a replica failure, or an outer block decides
            with on_primary():
                return func(*args, **kwargs)

        return cast(F, read)


@contextlib.contextmanager
def on_primary() -> Iterator[None]:
    """Reads inside go to the primary, whatever an outer block chose."""
    token = _reading_from.set(DEFAULT_DB_ALIAS)
    try:
        yield
    finally:
        _reading_from.reset(token)


class PrimaryReplicaRouter:
    """``DATABASE_ROUTERS``: reads inside a reading block where it chose the replica go there;
    everything else, and every write, goes to the primary.

    Both answers are explicit: Django's fallback would send a write (or a related lookup) on an
    object read from the replica back to the replica."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: same rows, same ids

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None
