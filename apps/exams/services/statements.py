"""The statements of the hot exam writes, written out (apps/core/sql.py).

Saving a batch of answers and scoring a session run a handful of statements over up to 500
rows; the ORM spent longer building them (and a model instance per row) than PostgreSQL spends
running them. On PostgreSQL a list of values is one array parameter (``unnest``, ``= ANY``), so
the statement text is fixed; SQLite (the embedded development default) gets ``VALUES`` and
``IN`` lists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from django.db import connection

from apps.core import sql
from apps.exams.models import ExamAnswer, ExamSession
from apps.exams.selectors import SavedAnswer, answer_converter

_ANSWERS = ExamAnswer._meta.db_table
_SESSIONS = ExamSession._meta.db_table


def _postgres() -> bool:
    return connection.vendor == "postgresql"


# --- the session's row lock -------------------------------------------------------------------


@cache
def _lock_sql(vendor: str, scoped: bool, for_update: bool) -> str:
    return (
        f"SELECT {sql.columns(ExamSession, 's')} FROM {sql.quote(_SESSIONS)} s "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"WHERE s.id = %s{' AND s.user_id = %s' if scoped else ''}"
        f"{' FOR UPDATE' if for_update else ''}"
    )


def lock_exam_session(*, session_id: int, user_id: int | None) -> ExamSession | None:
    """The session, row-locked until the end of the transaction (``SELECT ... FOR UPDATE``),
    if it exists and (with ``user_id``) belongs to that user."""
    text = _lock_sql(
        connection.vendor, user_id is not None, connection.features.has_select_for_update
    )
    row = sql.fetch_one(text, [session_id] if user_id is None else [session_id, user_id])
    if row is None:
        return None
    (session,) = sql.instances_from_row(row, ExamSession)
    assert isinstance(session, ExamSession)  # nosec B101 # the row is a session's
    return session


# --- saving answers ---------------------------------------------------------------------------

# Columns an answer save may set, in statement order.
SAVED_FIELDS = ("selected_option_ids", "flagged", "time_spent_sec")
_PG_TYPES = {"selected_option_ids": "jsonb", "flagged": "boolean", "time_spent_sec": "integer"}


@lru_cache(maxsize=64)
def _upsert_sql(vendor: str, given: tuple[str, ...], rows: int) -> str:
    columns = ", ".join(
        sql.quote(c) for c in ("session_id", "saved_at", "question_id", *SAVED_FIELDS)
    )
    if vendor == "postgresql":
        arrays = ", ".join(f"%s::{_PG_TYPES[f]}[]" for f in SAVED_FIELDS)
        source = (
            "SELECT %s, %s::timestamptz, u.q, u.s, u.f, u.t "  # noqa: S608  # nosec B608 # types from this module
            f"FROM unnest(%s::bigint[], {arrays}) AS u(q, s, f, t)"
        )
    else:
        source = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * rows)
    updates = ", ".join(f"{sql.quote(c)} = EXCLUDED.{sql.quote(c)}" for c in (*given, "saved_at"))
    returning = ", ".join(sql.quote(c) for c in ("id", "question_id", *SAVED_FIELDS))
    return (
        f"INSERT INTO {sql.quote(_ANSWERS)} ({columns}) {source} "  # nosec B608 # names from _meta, values are parameters
        f"ON CONFLICT ({sql.quote('session_id')}, {sql.quote('question_id')}) "
        f"DO UPDATE SET {updates} RETURNING {returning}"
    )


def upsert_answers(
    *,
    session_id: int,
    saved_at: datetime,
    given: tuple[str, ...],
    rows: Sequence[tuple[int, list[int], bool, int]],
) -> list[SavedAnswer]:
    """Inserts or updates the session's answers ``(question_id, selected_option_ids, flagged,
    time_spent_sec)`` in one statement. A new answer takes every value; an existing one takes
    only the ``given`` fields (and ``saved_at``), so a field the candidate left out keeps what
    was saved. Returns the answers as stored."""
    if not rows:
        return []
    if _postgres():
        params: list[Any] = [
            session_id,
            saved_at,
            [r[0] for r in rows],
            [json.dumps(r[1]) for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
        ]
    else:
        at = sql.adapt(saved_at)
        params = [v for r in rows for v in (session_id, at, r[0], json.dumps(r[1]), r[2], r[3])]
    stored = sql.fetch_all(_upsert_sql(connection.vendor, given, len(rows)), params)
    convert = answer_converter("selected_option_ids")
    return [
        SavedAnswer(
            id=answer_id,
            question_id=question_id,
            selected_option_ids=convert(selected),
            flagged=bool(flagged),
            time_spent_sec=time_spent_sec,
            saved_at=saved_at,
        )
        for answer_id, question_id, selected, flagged, time_spent_sec in stored
    ]


# --- scoring ------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _mark_sql(vendor: str, correct: int) -> str:
    match = sql.ids_condition("id", correct)
    return (
        f"UPDATE {sql.quote(_ANSWERS)} SET is_correct = CASE WHEN {match} THEN %s ELSE %s END "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        "WHERE session_id = %s"
    )


def mark_answers(*, session_id: int, correct_answer_ids: Sequence[int]) -> None:
    """Stores the grading: the listed answers of the session are correct, all others wrong."""
    ids = list(correct_answer_ids)
    text = _mark_sql(connection.vendor, sql.ids_text_key(len(ids)))
    sql.execute(text, [*sql.ids_params(ids), True, False, session_id])


_RESULT_FIELDS = (
    "status",
    "submitted_at",
    "auto_submitted",
    "score_percent",
    "correct",
    "answered",
    "time_spent_sec",
    "result",
)


@cache
def _store_sql(vendor: str) -> str:
    assignments = ", ".join(f"{sql.quote(f)} = %s" for f in _RESULT_FIELDS)
    return f"UPDATE {sql.quote(_SESSIONS)} SET {assignments} WHERE id = %s"  # noqa: S608  # nosec B608 # names from _meta, values are parameters


def store_result(session: ExamSession) -> None:
    """Writes the session's outcome fields (as ``save(update_fields=...)`` would)."""
    meta = ExamSession._meta
    params = [
        meta.get_field(f).get_db_prep_save(getattr(session, f), connection)  # type: ignore[union-attr]
        for f in _RESULT_FIELDS
    ]
    sql.execute(_store_sql(connection.vendor), [*params, session.pk])
