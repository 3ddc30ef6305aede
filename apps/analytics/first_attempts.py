"""Reads of the learning record for item analysis (apps/quality): candidates' first attempts.

A learner's *first attempt* at a question is their earliest fact for it (by ``answered_at``,
then id), whichever mode it came from: later attempts are practised, not naive, answers. The
rule lives here, once, in :func:`_first_attempts`; both reads below build on it.

These are batch reads for a nightly job: each is one statement whose size is bounded by the
questions (or learners) asked for, never one query per row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connections, router
from django.db.models import Count, Exists, FloatField, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, Coalesce, Extract

from apps.analytics.models import AnswerFact


@dataclass(frozen=True)
class FirstAttempt:
    user_id: int
    question_id: int
    question_version: int | None
    is_correct: bool
    time_spent_sec: int
    source: str  # "practice" or "exam"
    source_id: int  # the practice or exam session


def _first_attempts(facts: QuerySet[AnswerFact]) -> QuerySet[AnswerFact]:
    """One fact per (learner, question) among ``facts``: the earliest."""
    return facts.order_by("question_id", "user_id", "answered_at", "id").distinct(
        "question_id", "user_id"
    )


def first_attempt_ids_sql(partition: str) -> str:
    """SQL for the ids of the facts in one partition of the log (a table name of ours) that are
    their learner's first attempt at the question anywhere in the log: the rule of
    :func:`_first_attempts` (earliest answer, then earliest fact) written for one partition,
    which the archive keeps (apps/analytics/services/archiving.py).
    tests/analytics/test_first_attempts.py runs it beside the ORM expression."""
    table = AnswerFact._meta.db_table
    return (
        f'SELECT f.id FROM "{partition}" f WHERE NOT EXISTS ('  # noqa: S608  # nosec B608 # our own names
        f'SELECT 1 FROM "{table}" g WHERE g.user_id = f.user_id '
        "AND g.question_id = f.question_id AND (g.answered_at, g.id) < (f.answered_at, f.id))"
    )


def first_attempts(*, question_ids: Collection[int]) -> Iterator[FirstAttempt]:
    """The first attempts at these questions, by question then learner. A question's facts are
    all read (the first attempt may be on any version), so ask for a bounded batch."""
    if not question_ids:
        return iter(())
    rows = _first_attempts(AnswerFact.objects.filter(question_id__in=list(question_ids)))
    fields = (
        "user_id",
        "question_id",
        "question_version",
        "is_correct",
        "time_spent_sec",
        "source",
        "source_id",
    )
    return (FirstAttempt(*row) for row in rows.values_list(*fields).iterator(chunk_size=5000))


def first_attempt_totals(*, user_ids: Collection[int] | None = None) -> dict[int, tuple[int, int]]:
    """``{user_id: (first attempts, of which correct)}`` over every question, for these learners
    (all when None): what a rest score is computed from. One aggregate statement."""
    facts = AnswerFact.objects.all()
    if user_ids is not None:
        if not user_ids:
            return {}
        facts = facts.filter(user_id__in=list(user_ids))
    first_ids = _first_attempts(facts).values("id")
    rows = (
        AnswerFact.objects.filter(id__in=first_ids)
        .order_by()
        .values("user_id")
        .annotate(answered=Count("id"), correct=Count("id", filter=Q(is_correct=True)))
        .values_list("user_id", "answered", "correct")
    )
    return {user_id: (answered, correct) for user_id, answered, correct in rows}


def answered_question_ids() -> list[int]:
    """Every question with at least one fact, ascending: what a full analysis goes through."""
    return list(
        AnswerFact.objects.order_by("question_id").values_list("question_id", flat=True).distinct()
    )


# --- readiness: first attempts as plain rows --------------------------------------------------

# (fact id, user id, question id, question version or None, category id, is_correct, answered_at,
# source, source id): what readiness calibrates from, as tuples (millions of them nightly).
FirstAttemptRow = tuple[int, int, int, int | None, int, bool, datetime, str, int]
_ROW_FIELDS = (
    "id",
    "user_id",
    "question_id",
    "question_version",
    "category_id",
    "is_correct",
    "answered_at",
    "source",
    "source_id",
)


def latest_fact_id() -> int:
    """The newest fact's id (0 for none): a nightly job reads up to it and later reads go on
    from it."""
    return AnswerFact.objects.aggregate(top=Max("id"))["top"] or 0


def first_attempt_rows(
    *, question_ids: Collection[int], up_to_fact_id: int
) -> Iterator[FirstAttemptRow]:
    """Every learner's first attempt at these questions among the facts up to ``up_to_fact_id``,
    streamed in chunks. Ask for a bounded batch of questions."""
    if not question_ids:
        return iter(())
    facts = AnswerFact.objects.filter(question_id__in=list(question_ids), id__lte=up_to_fact_id)
    return _copied_rows(_first_attempts(facts).values_list(*_ROW_FIELDS))


# The PostgreSQL types of _ROW_FIELDS, for a binary COPY.
_ROW_TYPES = ("int8", "int8", "int8", "int4", "int8", "bool", "timestamptz", "varchar", "int8")


def _copied_rows(rows: QuerySet[AnswerFact, tuple[Any, ...]]) -> Iterator[FirstAttemptRow]:
    """The rows of a ``values_list(*_ROW_FIELDS)`` queryset, streamed by ``COPY ... TO STDOUT
    (FORMAT BINARY)`` instead of fetched through the ORM: the same statement and the same
    tuples, without a cursor round trip and a converter call per value (on ten million first
    attempts: seconds instead of minutes). psycopg binds the parameters client-side, as COPY
    takes none."""
    text, params = rows.query.sql_with_params()
    alias = router.db_for_read(AnswerFact)
    with connections[alias].cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
        with raw.copy(f"COPY ({text}) TO STDOUT (FORMAT BINARY)", params) as copy:  # nosec B608
            copy.set_types(list(_ROW_TYPES))
            yield from copy.rows()


def learner_first_attempt_rows(
    *, user_id: int, after_fact_id: int = 0, after_answered_at: datetime | None = None
) -> list[FirstAttemptRow]:
    """The learner's first attempts among their facts after ``after_fact_id`` (all when 0), in
    fact order. A fact is a first attempt when the learner has no earlier fact for the question;
    with ``after_answered_at`` (the time of fact ``after_fact_id``) the read starts there on the
    (user, answered_at) index and checks "earlier" on the (user, question) index, so its cost is
    the new facts, not the history."""
    earlier = AnswerFact.objects.filter(
        user_id=OuterRef("user_id"), question_id=OuterRef("question_id"), id__lt=OuterRef("id")
    )
    facts = AnswerFact.objects.filter(user_id=user_id, id__gt=after_fact_id)
    if after_answered_at is not None:
        facts = facts.filter(answered_at__gte=after_answered_at)
    rows = facts.filter(~Exists(earlier)).order_by("id").values_list(*_ROW_FIELDS)
    return list(rows)


# --- readiness: first attempts as columns -------------------------------------------------------


@dataclass(frozen=True)
class FirstAttemptColumns:
    """First attempts as NumPy columns, one entry per attempt, in the order of the rows of
    :func:`first_attempt_rows` (the same queryset): what the nightly calibration fits from."""

    user_id: npt.NDArray[np.int64]
    question_id: npt.NDArray[np.int64]
    version: npt.NDArray[np.int64]  # a fact without a recorded version counts as version 1
    category_id: npt.NDArray[np.int64]
    is_correct: npt.NDArray[np.bool_]
    answered_at: npt.NDArray[np.float64]  # seconds since the epoch

    def __len__(self) -> int:
        return len(self.user_id)


# One row of the binary COPY below: a field count, then for each field its length and its
# value, big-endian (PostgreSQL's binary COPY format). Every field is fixed-width and never
# null (the version is coalesced), so every row has this one layout.
_COLUMN_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("user_id_len", ">i4"),
        ("user_id", ">i8"),
        ("question_id_len", ">i4"),
        ("question_id", ">i8"),
        ("version_len", ">i4"),
        ("version", ">i4"),
        ("category_id_len", ">i4"),
        ("category_id", ">i8"),
        ("is_correct_len", ">i4"),
        ("is_correct", "u1"),
        ("answered_at_len", ">i4"),
        ("answered_at", ">f8"),
    ]
)
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_TRAILER = b"\xff\xff"
_PARSE_BYTES = 1 << 22  # COPY data gathered before each parse


def first_attempt_columns(
    *, question_ids: Collection[int], up_to_fact_id: int
) -> FirstAttemptColumns:
    """:func:`first_attempt_rows` as columns: the same queryset (so the same rule and order),
    its version coalesced to 1 and its time as epoch seconds, streamed by binary COPY and parsed
    by NumPy a buffer at a time, never a Python object per attempt."""
    if not question_ids:
        empty = np.zeros(0, dtype=np.int64)
        return FirstAttemptColumns(
            empty, empty, empty, empty, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.float64)
        )
    facts = AnswerFact.objects.filter(question_id__in=list(question_ids), id__lte=up_to_fact_id)
    rows = (
        _first_attempts(facts)
        .annotate(
            _version=Coalesce("question_version", 1),
            _at=Cast(Extract("answered_at", "epoch"), FloatField()),
        )
        .values_list("user_id", "question_id", "_version", "category_id", "is_correct", "_at")
    )
    text, params = rows.query.sql_with_params()
    parts: list[npt.NDArray[np.void]] = []
    pending = b""
    header_read = False

    def parse(blocks: list[bytes]) -> None:
        """Whole rows of ``pending`` plus ``blocks``; the rest (a row cut short, or the 2-byte
        trailer at the very end) waits for more."""
        nonlocal pending, header_read
        pending = pending + b"".join(blocks)
        if not header_read:
            if len(pending) < 19:
                return
            if not pending.startswith(_COPY_SIGNATURE):
                raise ValueError("not a binary COPY stream")
            extension = int.from_bytes(pending[15:19], "big")
            pending = pending[19 + extension :]
            header_read = True
        whole = len(pending) // _COLUMN_ROW.itemsize * _COLUMN_ROW.itemsize
        if whole:
            parts.append(np.frombuffer(pending[:whole], dtype=_COLUMN_ROW))
            pending = pending[whole:]

    alias = router.db_for_read(AnswerFact)
    with connections[alias].cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY ({text}) TO STDOUT (FORMAT BINARY)", params) as copy:  # nosec B608
            # psycopg hands over a message at a time (a row, for COPY TO): gathered into a few
            # megabytes before NumPy parses them.
            blocks: list[bytes] = []
            size = 0
            for block in copy:
                blocks.append(bytes(block))
                size += len(block)
                if size >= _PARSE_BYTES:
                    parse(blocks)
                    blocks, size = [], 0
            parse(blocks)
    if pending not in (b"", _COPY_TRAILER):
        raise ValueError(f"unexpected {len(pending)} bytes at the end of the COPY stream")
    table = np.concatenate(parts) if parts else np.zeros(0, dtype=_COLUMN_ROW)
    if len(table) and not (table["fields"] == 6).all():
        raise ValueError("unexpected field count in the COPY stream")
    return FirstAttemptColumns(
        user_id=table["user_id"].astype(np.int64),
        question_id=table["question_id"].astype(np.int64),
        version=table["version"].astype(np.int64),
        category_id=table["category_id"].astype(np.int64),
        is_correct=table["is_correct"].astype(bool),
        answered_at=table["answered_at"].astype(np.float64),
    )
