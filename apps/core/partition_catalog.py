"""The catalogue side of the partitioned histories (apps/core/partitioning.py): the names and
numbers of the scheme (monthly session bases, partition names), reads of PostgreSQL's catalogue
(is a table partitioned, its partitions, the legacy range) and the lock discipline every schema
change here follows (a bounded wait, tried again). Kept apart from the conversion and the
monthly upkeep so that both, and the archive, share one copy of each.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger("apps.core.partitioning")

MONTH_SPAN = 10**9  # session ids per month; the largest base, 999912 * 10**9, is below 2**53
IDENTIFIER_MAX = 63  # PostgreSQL's NAMEDATALEN - 1
# How long a schema change here may wait for its table lock. Creating a partition or converting
# a table needs a lock that conflicts with every read; while it waits, every later reader and
# writer of the table queues behind it, so a wait behind a long read (the nightly calibration
# reads the log for minutes) would stall every answer. Better to give up and try again.
LOCK_TIMEOUT_MS = 2000
CONVERSION_ATTEMPTS = 30  # the migration retries its short transaction this many times


def month_base(year: int, month: int) -> int:
    """The first session id of a month: ``yyyymm * 10**9``."""
    return (year * 100 + month) * MONTH_SPAN


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + month // 12, month % 12 + 1)


def month_of_base(value: int) -> tuple[int, int]:
    """The month whose range holds ``value`` (a session id at or above the first base)."""
    yyyymm = value // MONTH_SPAN
    return (yyyymm // 100, yyyymm % 100)


def legacy_name(table: str) -> str:
    return f"{table}_legacy"


def partition_name(table: str, year: int, month: int) -> str:
    return f"{table}_p{year}{month:02d}"


def renamed_name(name: str, suffix: str = "_legacy") -> str:
    return name[: IDENTIFIER_MAX - len(suffix)] + suffix


def quoted(name: str) -> str:
    """A quoted identifier (our own table and index names; quoting keeps them exact)."""
    return '"' + name.replace('"', '""') + '"'


def fetch_rows(cursor: Any, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    cursor.execute(sql, params or [])
    return list(cursor.fetchall())


def fetch_one(cursor: Any, sql: str, params: list[Any] | None = None) -> Any:
    rows = fetch_rows(cursor, sql, params)
    return rows[0][0] if rows else None


def is_lock_timeout(error: BaseException) -> bool:
    """A ``lock_timeout`` expiry (SQLSTATE 55P03), as Django or psycopg raise it."""
    cause = error.__cause__ or error
    return getattr(cause, "sqlstate", None) == "55P03"


def bound_lock_waits(cursor: Any, timeout_ms: int) -> None:
    """Every lock wait of the rest of this transaction gives up after ``timeout_ms``."""
    cursor.execute(f"SET LOCAL lock_timeout = {int(timeout_ms)}")


def is_partitioned(cursor: Any, table: str) -> bool:
    return bool(
        fetch_one(
            cursor,
            "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))",
            [table],
        )
    )


def partitions_of(cursor: Any, table: str) -> list[str]:
    """The partitions of ``table``, by their lower bound (the legacy one first)."""
    return [
        name
        for (name,) in fetch_rows(
            cursor,
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) "
            "ORDER BY pg_get_expr(c.relpartbound, c.oid) LIKE '%%MINVALUE%%' DESC, c.relname",
            [table],
        )
    ]


@dataclass(frozen=True)
class Bounds:
    """A partition's range: ``FROM (lower) TO (upper)``, ``lower`` None for ``MINVALUE``."""

    text: str  # "FROM (...) TO (...)", as ATTACH PARTITION ... FOR VALUES takes it
    lower: int | None
    upper: int


def partition_bounds(cursor: Any, name: str) -> Bounds | None:
    """The range of the partition ``name`` (None when it is not a range partition)."""
    bound = fetch_one(
        cursor,
        "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.oid = to_regclass(%s)",
        [name],
    )
    match = re.fullmatch(
        r"FOR VALUES FROM \('?(-?\d+|MINVALUE)'?\) TO \('?(-?\d+)'?\)", bound or ""
    )
    if match is None:
        return None
    lower = None if match.group(1) == "MINVALUE" else int(match.group(1))
    return Bounds(text=bound.removeprefix("FOR VALUES "), lower=lower, upper=int(match.group(2)))


def legacy_upper_bound(cursor: Any, table: str) -> int | None:
    """Where the legacy partition (the table as it was before the conversion) ends."""
    bounds = partition_bounds(cursor, legacy_name(table))
    return bounds.upper if bounds else None


def run_with_lock_retries(
    connection: BaseDatabaseWrapper,
    change: Any,
    *,
    what: str,
    attempts: int | None = None,
    timeout_ms: int | None = None,
) -> None:
    """Runs ``change(cursor)`` in a transaction whose lock waits give up after ``timeout_ms``,
    trying again (after a growing pause) while the table is busy, so a schema change never
    queues every answer behind a long read. Raises once ``attempts`` are spent."""
    attempts = attempts or CONVERSION_ATTEMPTS
    timeout_ms = timeout_ms or LOCK_TIMEOUT_MS
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                bound_lock_waits(cursor, timeout_ms)
                change(cursor)
            return
        except Exception as error:
            if not is_lock_timeout(error) or attempt == attempts:
                raise
            logger.warning(
                "table busy, trying again",
                extra={"change": what, "attempt": attempt, "lock_timeout_ms": timeout_ms},
            )
            time.sleep(min(0.5 * attempt, 5.0))
