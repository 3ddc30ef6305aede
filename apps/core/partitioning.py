"""The answer histories partitioned by month of session (docs/partitioning.md).

The append-only histories that grow with answers are partitioned by ``RANGE`` of the session
they belong to: the answer log (``analytics_answerfact.source_id``), practice attempts and exam
answers (``session_id``). Their exactly-once keys already contain the session, so each stays one
database constraint, enforced for every writer, and the statements that rely on it
(``ON CONFLICT (user_id, source, source_id, question_id)``) do not change.

Session ids are numbered by month: each month's ids start at ``yyyymm * 10**9``
(``month_base``), shared by practice and exam sessions. :func:`prepare_partitions` (the
migrations, then Beat every hour) creates the partitions for the months ahead and then moves the
session sequences to the current month's base, in that order, so a session id always has a
partition. The rows from before the conversion stay where they were: the old table is attached
whole as the partition below the first monthly base, without a copy and, thanks to a
pre-validated ``CHECK``, without a scan under the exclusive lock.

Everything here is plain SQL over table names (no models), so the migrations, the Beat task and
the tests run the same code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from apps.core.partition_catalog import (
    LOCK_TIMEOUT_MS,
    bound_lock_waits,
    fetch_one,
    fetch_rows,
    is_lock_timeout,
    is_partitioned,
    legacy_name,
    legacy_upper_bound,
    month_base,
    month_of_base,
    next_month,
    partition_name,
    partitions_of,
    quoted,
    renamed_name,
    run_with_lock_retries,
)

logger = logging.getLogger(__name__)

MONTHS_AHEAD = 3  # partitions kept ready beyond the current month


@dataclass(frozen=True)
class History:
    """A history table and the session column it is partitioned by."""

    table: str
    key: str


HISTORIES: tuple[History, ...] = (
    History("analytics_answerfact", "source_id"),
    History("practice_practiceattempt", "session_id"),
    History("exams_examanswer", "session_id"),
)
# The sessions whose ids are the partition keys above: numbered by month.
SESSION_TABLES: tuple[str, ...] = ("practice_practicesession", "exams_examsession")


def _first_month(cursor: Any, history: History, today: date) -> tuple[int, int]:
    """The first monthly partition: this month, or the month above the highest key already
    written (a sequence moved by an earlier conversion of another history)."""
    month = (today.year, today.month)
    top = fetch_one(cursor, f"SELECT max({quoted(history.key)}) FROM {quoted(history.table)}")  # noqa: S608  # nosec B608 # our own identifiers
    if top is not None and int(top) >= month_base(*month):
        month = next_month(*month_of_base(int(top)))
    return month


def _range_check(table: str) -> str:
    return renamed_name(f"{table}_range", "_check")


def prepare_conversion(connection: BaseDatabaseWrapper, history: History, today: date) -> int:
    """Step 1, outside the conversion's transaction: a ``CHECK`` that every existing key lies
    below the first monthly base, added ``NOT VALID`` (a moment's lock) and validated (one scan
    under ``SHARE UPDATE EXCLUSIVE``: reads and writes go on). Returns the first base."""
    with connection.cursor() as cursor:
        first = month_base(*_first_month(cursor, history, today))
    check = _range_check(history.table)

    def add_check(cursor: Any) -> None:
        cursor.execute(
            f"ALTER TABLE {quoted(history.table)} DROP CONSTRAINT IF EXISTS {quoted(check)}"
        )
        cursor.execute(
            f"ALTER TABLE {quoted(history.table)} ADD CONSTRAINT {quoted(check)} "
            f"CHECK ({quoted(history.key)} < {int(first)}) NOT VALID"
        )

    run_with_lock_retries(connection, add_check, what=f"adding {check}")
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {quoted(history.table)} VALIDATE CONSTRAINT {quoted(check)}")
    return first


def convert(connection: BaseDatabaseWrapper, history: History, today: date | None = None) -> None:
    """Partitions ``history`` by month of session, keeping every row where it is (the table
    becomes the partition below the first base) and every index and constraint under its name
    (on the new parent; the old table's own carry ``_legacy``). Idempotent."""
    today = today or timezone.localdate()
    with connection.cursor() as cursor:
        if is_partitioned(cursor, history.table):
            return
    first = prepare_conversion(connection, history, today)
    run_with_lock_retries(
        connection,
        lambda cursor: _convert(cursor, history, first),
        what=f"partitioning {history.table}",
    )
    prepare_partitions(connection, today)
    analyze_histories(connection, [history])


def _convert(cursor: Any, history: History, first: int) -> None:
    table, legacy = history.table, legacy_name(history.table)
    # What the parent must carry, read before anything is renamed.
    indexes = fetch_rows(
        cursor,
        "SELECT i.relname, pg_get_indexdef(x.indexrelid), c.conname IS NOT NULL, "
        "coalesce(c.contype, ''), coalesce(pg_get_constraintdef(c.oid), '') "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
        "WHERE x.indrelid = to_regclass(%s) ORDER BY i.relname",
        [table],
    )
    foreign_keys = fetch_rows(
        cursor,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype = 'f' ORDER BY conname",
        [table],
    )
    identity = fetch_one(
        cursor,
        "SELECT attidentity FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'id'",
        [table],
    )
    cursor.execute(f"ALTER TABLE {quoted(table)} RENAME TO {quoted(legacy)}")
    for name, _definition, _is_constraint, _kind, _condef in indexes:
        cursor.execute(f"ALTER INDEX {quoted(name)} RENAME TO {quoted(renamed_name(name))}")
    if identity:
        # A partition cannot bring an identity of its own: the parent's sequence numbers all.
        cursor.execute(f"ALTER TABLE {quoted(legacy)} ALTER COLUMN id DROP IDENTITY")
    sequence = f"{table}_id_seq"
    cursor.execute(f"CREATE SEQUENCE {quoted(sequence)} AS bigint")
    cursor.execute(
        f"SELECT setval(%s, coalesce(max(id), 0) + 1, false) FROM {quoted(legacy)}",  # noqa: S608  # nosec B608
        [sequence],
    )
    cursor.execute(
        f"CREATE TABLE {quoted(table)} (LIKE {quoted(legacy)} "
        "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS) "
        f"PARTITION BY RANGE ({quoted(history.key)})"
    )
    # The range check belongs to the legacy partition only.
    cursor.execute(f"ALTER TABLE {quoted(table)} DROP CONSTRAINT {quoted(_range_check(table))}")
    cursor.execute(f"ALTER TABLE {quoted(table)} ALTER COLUMN id SET DEFAULT nextval('{sequence}')")
    cursor.execute(f"ALTER SEQUENCE {quoted(sequence)} OWNED BY {quoted(table)}.id")
    for name, definition, is_constraint, kind, condef in indexes:
        if kind == "p":
            # A partitioned table's primary key must contain the partition key: ``id`` stays
            # unique by its one sequence, and each partition keeps a primary key of its own.
            continue
        if is_constraint:
            cursor.execute(f"ALTER TABLE {quoted(table)} ADD CONSTRAINT {quoted(name)} {condef}")
        else:
            cursor.execute(definition)  # "CREATE INDEX <name> ON public.<table> ...": the parent
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {quoted(table)} ADD CONSTRAINT {quoted(name)} {definition}")
    # The check proves the range, so attaching scans nothing; matching indexes, the unique key and
    # the foreign keys are attached, not rebuilt or re-validated.
    cursor.execute(
        f"ALTER TABLE {quoted(table)} ATTACH PARTITION {quoted(legacy)} "
        f"FOR VALUES FROM (MINVALUE) TO ({int(first)})"
    )
    year, month = month_of_base(first)
    _create_month(cursor, table, year, month)
    logger.info("partitioned %s below %s", table, first)


def _inside_legacy(cursor: Any, table: str, value: int) -> bool:
    upper = legacy_upper_bound(cursor, table)
    return upper is not None and value < upper


def _create_month(cursor: Any, table: str, year: int, month: int) -> bool:
    name = partition_name(table, year, month)
    if fetch_one(cursor, "SELECT to_regclass(%s) IS NOT NULL", [name]):
        return False
    legacy_upper = legacy_upper_bound(cursor, table)
    if legacy_upper is not None and month_base(year, month) < legacy_upper:
        return False  # inside the legacy partition's range
    upper = month_base(*next_month(year, month))
    cursor.execute(
        f"CREATE TABLE {quoted(name)} PARTITION OF {quoted(table)} "
        f"FOR VALUES FROM ({month_base(year, month)}) TO ({upper})"
    )
    cursor.execute(f"ALTER TABLE {quoted(name)} ADD PRIMARY KEY (id)")
    return True


def prepare_partitions(
    connection: BaseDatabaseWrapper,
    today: date | None = None,
    months_ahead: int = MONTHS_AHEAD,
    lock_timeout_ms: int = LOCK_TIMEOUT_MS,
) -> dict[str, Any]:
    """This month's partition and ``months_ahead`` more for every partitioned history, then the
    session sequences moved up to this month's base (never down). Idempotent; Beat runs it every
    hour (``core.prepare_history_partitions``).

    Creating a partition locks its parent against every read while it lasts; a table kept busy
    longer than ``lock_timeout_ms`` (a long read holding it) is left for the next run and
    reported in ``partitions_deferred``, rather than making every answer wait behind the
    creation. With partitions made three months ahead, a deferred one has months of hourly
    retries; the sequences move only into a month whose partitions all exist."""
    today = today or timezone.localdate()
    created: list[str] = []
    deferred: list[str] = []
    moved: list[str] = []
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        partitioned = [h for h in HISTORIES if is_partitioned(cursor, h.table)]
        if not partitioned:
            return {
                "partitions_created": created,
                "partitions_deferred": deferred,
                "sequences_moved": moved,
            }
        # One at a time across processes (two Beats in a failover, a migration beside Beat).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('openmrcs.partitions'))")
        bound_lock_waits(cursor, lock_timeout_ms)
        for history in partitioned:
            year, month = today.year, today.month
            for _ in range(months_ahead + 1):
                name = partition_name(history.table, year, month)
                try:
                    with transaction.atomic(using=connection.alias):  # a savepoint
                        if _create_month(cursor, history.table, year, month):
                            created.append(name)
                except Exception as error:
                    if not is_lock_timeout(error):
                        raise
                    deferred.append(name)
                    break  # the table is busy: its later months wait for the next run too
                year, month = next_month(year, month)
        # Session ids move only once every history is partitioned (a history still being
        # converted holds a CHECK that its keys stay below this month's base) and into a month
        # whose partitions all exist.
        base = month_base(today.year, today.month)
        ready = len(partitioned) == len(HISTORIES) and all(
            fetch_one(
                cursor,
                "SELECT to_regclass(%s) IS NOT NULL",
                [partition_name(h.table, today.year, today.month)],
            )
            or _inside_legacy(cursor, h.table, base)
            for h in HISTORIES
        )
        for table in SESSION_TABLES if ready else ():
            sequence = fetch_one(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [table])
            if sequence is None:
                continue
            current = fetch_one(cursor, f"SELECT last_value FROM {sequence}")  # noqa: S608  # nosec B608 # from the catalog
            if int(current) < base:
                cursor.execute("SELECT setval(%s, %s, false)", [sequence, base])
                moved.append(table)
    if created or moved:
        logger.info(
            "history partitions ready",
            extra={"partitions_created": created, "sequences_moved": moved},
        )
    if deferred:
        logger.warning(
            "history partitions deferred: their tables were busy",
            extra={"partitions_deferred": deferred, "lock_timeout_ms": lock_timeout_ms},
        )
    return {
        "partitions_created": created,
        "partitions_deferred": deferred,
        "sequences_moved": moved,
    }


def analyze_histories(
    connection: BaseDatabaseWrapper, histories: tuple[History, ...] | list[History] = HISTORIES
) -> list[str]:
    """``ANALYZE`` of each partitioned history's parent: the statistics of the whole tree.

    Autovacuum analyses each partition as its rows change, but never a partitioned parent, and
    the planner reads the parent's statistics whenever a query is not pruned to one partition
    (a learner's answers across months joined to their sessions, an aggregate over the log): a
    parent never analysed is planned on default guesses. ``ANALYZE`` samples (30,000 rows at the
    default statistics target, spread over the partitions), so it costs seconds whatever the
    size. Beat runs it nightly (``core.analyze_history_partitions``); the conversion runs it
    once. Returns the tables analysed."""
    done: list[str] = []
    with connection.cursor() as cursor:
        for history in histories:
            if is_partitioned(cursor, history.table):
                cursor.execute(f"ANALYZE {quoted(history.table)}")
                done.append(history.table)
    if done:
        logger.info("history statistics gathered", extra={"tables": done})
    return done


def revert(connection: BaseDatabaseWrapper, history: History) -> None:
    """Back to one plain table: the monthly partitions' rows moved into the legacy one, the
    parent dropped, names, identity and primary key as before. Idempotent."""
    table, legacy = history.table, legacy_name(history.table)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if not is_partitioned(cursor, table):
            return
        # The rows moved below are checked as they go: deferred foreign-key checks left pending
        # would forbid the ALTER TABLEs that follow in this transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Each legacy index's name on the parent (index inheritance), read before the detach.
        names = fetch_rows(
            cursor,
            "SELECT child.relname, parent.relname FROM pg_inherits i "
            "JOIN pg_class child ON child.oid = i.inhrelid "
            "JOIN pg_class parent ON parent.oid = i.inhparent "
            "JOIN pg_index x ON x.indexrelid = child.oid "
            "WHERE x.indrelid = to_regclass(%s)",
            [legacy],
        )
        months = [name for name in partitions_of(cursor, table) if name != legacy]
        cursor.execute(f"ALTER TABLE {quoted(table)} DETACH PARTITION {quoted(legacy)}")
        cursor.execute(
            f"ALTER TABLE {quoted(legacy)} DROP CONSTRAINT IF EXISTS {quoted(_range_check(table))}"
        )
        for name in months:
            cursor.execute(f"INSERT INTO {quoted(legacy)} SELECT * FROM {quoted(name)}")  # noqa: S608  # nosec B608
        top = fetch_one(cursor, f"SELECT coalesce(max(id), 0) + 1 FROM {quoted(legacy)}")  # noqa: S608  # nosec B608
        cursor.execute(f"DROP TABLE {quoted(table)}")  # its monthly partitions and sequence with it
        cursor.execute(f"ALTER TABLE {quoted(legacy)} RENAME TO {quoted(table)}")
        for child, parent in names:
            cursor.execute(f"ALTER INDEX {quoted(child)} RENAME TO {quoted(parent)}")
        pkey = fetch_one(
            cursor,
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = to_regclass(%s) AND x.indisprimary",
            [table],
        )
        if pkey and pkey != f"{table}_pkey":
            cursor.execute(f"ALTER INDEX {quoted(pkey)} RENAME TO {quoted(table + '_pkey')}")
        cursor.execute(
            f"ALTER TABLE {quoted(table)} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY "
            f"(START WITH {int(top)})"
        )
    logger.info("unpartitioned %s", table)


def convert_all(connection: BaseDatabaseWrapper, today: date | None = None) -> None:
    for history in HISTORIES:
        convert(connection, history, today)


def revert_all(connection: BaseDatabaseWrapper) -> None:
    for history in HISTORIES:
        revert(connection, history)
