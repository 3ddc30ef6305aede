"""Statements the ORM cannot express: the database's clock and which transactions are still open.

A re-key must not finish regrading while a transaction that may have read the old key is still
open (it could commit an answer graded on the old key after the scan). PostgreSQL tells which
transactions are open, and since when, in ``pg_stat_activity`` (``xact_start``, kept in shared
memory and set when a transaction begins, so it is never late). See
:mod:`apps.quality.services.regrade` for the argument. It needs ``track_activities`` (on by
default) and sees the sessions of its own database role (the application's one role): a
session of another role without ``pg_read_all_stats`` shows no ``xact_start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.core import sql

DATABASE_NOW = "SELECT clock_timestamp() AS now"
"""The database server's clock now (not the transaction's start, as ``now()`` would be)."""

CLEAR_ACTIVITY_SNAPSHOT = "SELECT pg_stat_clear_snapshot()"
"""PostgreSQL keeps the ``pg_stat_activity`` it read first for the rest of the transaction;
this forgets it, so that the next read inside a transaction sees the backends as they are."""

OPEN_SINCE_BEFORE = (
    "SELECT count(*) AS open_transactions FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend' "
    "AND xact_start IS NOT NULL AND xact_start < %(before)s"
)
"""How many other client sessions on this database are inside a transaction begun before
``before`` (autovacuum and other server processes answer no question and are not counted)."""


@dataclass(frozen=True)
class DatabaseNow:
    now: datetime


@dataclass(frozen=True)
class OpenTransactions:
    open_transactions: int


def database_now() -> datetime:
    row = sql.fetch_one(DATABASE_NOW, {}, into=DatabaseNow)
    assert row is not None  # nosec B101 # a SELECT without FROM returns its row
    return row.now


def open_transactions_begun_before(before: datetime) -> int:
    """Other transactions on this database that began before ``before`` and are still open."""
    sql.execute(CLEAR_ACTIVITY_SNAPSHOT, {})
    row = sql.fetch_one(OPEN_SINCE_BEFORE, {"before": before}, into=OpenTransactions)
    assert row is not None  # nosec B101 # an aggregate returns its row
    return row.open_transactions
