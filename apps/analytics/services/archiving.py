"""Archiving old months of the answer log (``manage.py archive_history``; docs/partitioning.md).

A month of the log holds, for each learner and question, at most one *first attempt* (their
earliest answer to it, anywhere in the log) and any number of later answers. The readers of the
whole history need the first attempts (item analysis, readiness, the unseen-only score) and the
totals (the aggregates' nightly rebuild); nothing reads an old repeat answer by itself. So a
month is archived by keeping its first attempts in the log and moving the rest out:

- their totals are added to :class:`ArchivedActivity` (per learner and day) and
  :class:`ArchivedProgress` (per learner and category), which the rebuild adds back, so no
  aggregate changes;
- they are written, **anonymised** (question, version, category, source, correct, time, day: no
  learner, no session), to a gzip CSV file whose row count and SHA-256 are checked and kept in
  :class:`ArchivedMonth`. Without a learner they are not personal data: erasure has nothing to
  reach in them, and they still serve item research;
- the month's partition is swapped for a compact copy holding its first attempts (built beside
  it, attached in its place, the old one dropped), in one transaction: a month is archived
  wholly or not at all.

A month is archived only once no answer in it is more recent than the cut (its sessions are
over), and the cut must be at least ``min_age_months`` old. Practice attempts and exam answers
(a session's own detail, read by its review) are not archived.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.analytics.first_attempts import first_attempt_ids_sql
from apps.analytics.models import ArchivedActivity, ArchivedMonth, ArchivedProgress
from apps.core import partition_catalog, partitioning
from apps.core.partition_catalog import Bounds
from apps.core.partition_catalog import quoted as _q

TABLE = "analytics_answerfact"
ARCHIVED_COLUMNS = (
    "question_id",
    "question_version",
    "category_id",
    "source",
    "is_correct",
    "time_spent_sec",
    "local_date",
)
_ACTIVITY = ArchivedActivity._meta.db_table
_PROGRESS = ArchivedProgress._meta.db_table


@dataclass
class MonthPlan:
    """One partition of the log and whether it can be archived now."""

    partition: str
    bounds: Bounds
    rows: int
    repeats: int
    last_answered_at: datetime | None
    refused: str | None = None


def _month_start(value: date) -> datetime:
    return datetime(value.year, value.month, 1, tzinfo=UTC)


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _prepare_to_attach(cursor: Any, name: str, compact: str, bounds: Bounds) -> None:
    """Gives ``compact`` what the parent asks of a partition (an index for each of its indexes,
    ``name``'s foreign keys) and a check matching ``bounds``, before the parent is locked: the
    attach then finds and attaches them instead of building indexes and scanning rows under the
    parent's lock."""
    # One index per index of the parent (what the attach looks for), from the parent's own
    # definitions. An index behind a constraint (the exactly-once key) must come as a constraint
    # too, or the attach would build another one.
    cursor.execute(
        "SELECT pg_get_indexdef(x.indexrelid), coalesce(pg_get_constraintdef(c.oid), '') "
        "FROM pg_index x LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid "
        "AND c.conrelid = x.indrelid WHERE x.indrelid = to_regclass(%s) ORDER BY 1",
        [TABLE],
    )
    token = secrets.token_hex(3)  # index names are the schema's: never those of a past run
    for number, (definition, constraint) in enumerate(cursor.fetchall()):
        renamed = f"{compact[:44]}_{token}_i{number}"
        if constraint:
            cursor.execute(f"ALTER TABLE {_q(compact)} ADD CONSTRAINT {_q(renamed)} {constraint}")
            continue
        head = re.match(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ", definition)
        if head is None:
            raise RuntimeError(f"unexpected index definition: {definition}")
        unique = head.group(1) or ""
        cursor.execute(
            f"CREATE {unique}INDEX {_q(renamed)} ON {_q(compact)} {definition[head.end() :]}"
        )
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype = 'f'",
        [name],
    )
    for constraint, definition in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {_q(compact)} ADD CONSTRAINT {_q(constraint)} {definition}")
    if bounds.lower is not None:
        cursor.execute(
            f"ALTER TABLE {_q(compact)} ADD CONSTRAINT {_q(compact + '_bounds')} "
            f"CHECK (source_id >= {int(bounds.lower)} AND source_id < {int(bounds.upper)})"
        )
    # The legacy partition's own range check came with LIKE ... INCLUDING CONSTRAINTS.


def plan(*, before: date, min_age_months: int = 12, today: date | None = None) -> list[MonthPlan]:
    """Every partition of the log wholly before ``before``'s month, with why it may not be
    archived yet (or ``refused`` None)."""
    today = today or timezone.localdate()
    cut = _month_start(before)
    plans: list[MonthPlan] = []
    archived = set(ArchivedMonth.objects.values_list("partition", flat=True))
    with connection.cursor() as cursor:
        if not partitioning.is_partitioned(cursor, TABLE):
            return []
        for name in partitioning.partitions_of(cursor, TABLE):
            bounds = partition_catalog.partition_bounds(cursor, name)
            if bounds is None or bounds.upper > partitioning.month_base(cut.year, cut.month):
                continue  # holds sessions of the cut's month or later
            cursor.execute(f"SELECT count(*), max(answered_at) FROM {_q(name)}")  # noqa: S608  # nosec B608
            rows, last = cursor.fetchone()
            month = MonthPlan(
                partition=name,
                bounds=bounds,
                rows=int(rows),
                repeats=0,
                last_answered_at=last,
            )
            if name in archived:
                month.refused = "already archived"
            elif _months_between(before, today) < min_age_months:
                month.refused = f"the cut is less than {min_age_months} months old"
            elif rows == 0:
                month.refused = "empty"
            elif last is not None and last >= cut:
                month.refused = f"answered as late as {last:%Y-%m-%d}: its sessions are not over"
            else:
                cursor.execute(f"SELECT count(*) FROM ({first_attempt_ids_sql(name)}) k")  # noqa: S608  # nosec B608
                (firsts,) = cursor.fetchone()
                month.repeats = int(rows) - int(firsts)
                if month.repeats == 0:
                    month.refused = "only first attempts: nothing to archive"
            plans.append(month)
    return plans


def archive_month(month: MonthPlan, *, directory: Path) -> ArchivedMonth:
    """Archives one planned month (see the module's text). Raises, leaving everything as it
    was, when the file does not hold exactly the rows that leave the log."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{month.partition}.csv.gz"
    partial = path.with_suffix(".partial")
    result: dict[str, Any] = {}

    def change(cursor: Any) -> None:
        name, compact = month.partition, f"{month.partition}_compact"
        # No answer may land in the month while it is archived (none should: its sessions are
        # over); reads go on.
        cursor.execute(f"LOCK TABLE {_q(name)} IN SHARE MODE")
        cursor.execute(
            f"CREATE TEMP TABLE archive_keep ON COMMIT DROP AS {first_attempt_ids_sql(name)}"  # nosec B608
        )
        cursor.execute("ALTER TABLE archive_keep ADD PRIMARY KEY (id)")
        leaving = (
            f"FROM {_q(name)} f "  # noqa: S608  # nosec B608
            "WHERE NOT EXISTS (SELECT 1 FROM archive_keep k WHERE k.id = f.id)"
        )
        cursor.execute(f"SELECT count(*), (SELECT count(*) FROM {_q(name)}) {leaving}")  # noqa: S608  # nosec B608
        moving, before = cursor.fetchone()
        # The totals of what leaves, added to the learners' archived totals.
        cursor.execute(
            f"INSERT INTO {_ACTIVITY} AS t (user_id, date, answered, correct, time_spent_sec) "  # nosec B608
            "SELECT user_id, local_date, count(*), count(*) FILTER (WHERE is_correct), "
            f"coalesce(sum(counted_time_sec), 0) {leaving} GROUP BY user_id, local_date "
            "ON CONFLICT (user_id, date) DO UPDATE SET answered = t.answered + excluded.answered, "
            "correct = t.correct + excluded.correct, "
            "time_spent_sec = t.time_spent_sec + excluded.time_spent_sec"
        )
        cursor.execute(
            f"INSERT INTO {_PROGRESS} AS t (user_id, category_id, answered, correct, "  # nosec B608
            "last_answered_at) SELECT user_id, category_id, count(*), "
            f"count(*) FILTER (WHERE is_correct), max(answered_at) {leaving} "
            "GROUP BY user_id, category_id ON CONFLICT (user_id, category_id) DO UPDATE SET "
            "answered = t.answered + excluded.answered, correct = t.correct + excluded.correct, "
            "last_answered_at = GREATEST(t.last_answered_at, excluded.last_answered_at)"
        )
        # The anonymised file, checked before anything leaves the log.
        columns = ", ".join(ARCHIVED_COLUMNS)
        digest = hashlib.sha256()
        written = 0
        raw = cursor.cursor
        with (
            gzip.open(partial, "wb") as out,
            raw.copy(
                f"COPY (SELECT {columns} {leaving} ORDER BY f.id) TO STDOUT (FORMAT csv)"  # nosec B608
            ) as copy,
        ):
            out.write((",".join(ARCHIVED_COLUMNS) + "\n").encode())
            for block in copy:
                data = bytes(block)
                written += data.count(b"\n")
                out.write(data)
        with gzip.open(partial, "rb") as check:
            lines = sum(1 for _ in check) - 1
            check.seek(0)
            for piece in iter(lambda: check.read(1 << 20), b""):
                digest.update(piece)
        if not written == lines == moving:
            raise RuntimeError(
                f"{name}: {moving} rows leave the log but the file holds {lines} ({written} sent)"
            )
        # The compact partition: the first attempts, in the month's place.
        # LIKE the partition it replaces: its defaults (a monthly partition's id default, none
        # on the legacy one, which a revert turns back into the plain table) and its checks.
        cursor.execute(
            f"CREATE TABLE {_q(compact)} (LIKE {_q(name)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(
            f"INSERT INTO {_q(compact)} SELECT f.* FROM {_q(name)} f "  # noqa: S608  # nosec B608
            "JOIN archive_keep k ON k.id = f.id"
        )
        cursor.execute(f"ALTER TABLE {_q(compact)} ADD PRIMARY KEY (id)")
        _prepare_to_attach(cursor, name, compact, month.bounds)
        # Only now the parent's lock, and only for catalogue changes: the indexes, foreign keys
        # and bounds the attach needs are all in place, so it builds and scans nothing.
        cursor.execute(f"ALTER TABLE {_q(TABLE)} DETACH PARTITION {_q(name)}")
        cursor.execute(
            f"ALTER TABLE {_q(TABLE)} ATTACH PARTITION {_q(compact)} FOR VALUES {month.bounds.text}"
        )
        cursor.execute(
            f"ALTER TABLE {_q(compact)} DROP CONSTRAINT IF EXISTS {_q(compact + '_bounds')}"
        )
        cursor.execute(f"DROP TABLE {_q(name)}")
        cursor.execute(f"ALTER TABLE {_q(compact)} RENAME TO {_q(name)}")
        result["row"] = ArchivedMonth.objects.create(
            partition=name,
            archived_at=timezone.now(),
            rows_before=int(before),
            rows_kept=int(before) - int(moving),
            rows_archived=int(moving),
            file=str(path),
            sha256=digest.hexdigest(),
        )

    try:
        partition_catalog.run_with_lock_retries(
            connection, change, what=f"archiving {month.partition}"
        )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)  # under its name only once the month has left the log
    with connection.cursor() as cursor:  # the new table's statistics, before any plan needs them
        cursor.execute(f"ANALYZE {_q(month.partition)}")
    row: ArchivedMonth = result["row"]
    return row
