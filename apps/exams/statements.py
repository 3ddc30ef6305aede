"""Exam mode's SQL that does not go through the ORM on every call: the one home of it for the
app (``apps/exams/services/statements.py`` is gone; apps/core/sql.py says when either tool is
worth it, docs/benchmark.md has the figures).

- Reads on the start, save, render and submit paths and the dashboard are querysets compiled
  once per process (:class:`~apps.core.sql.CompiledQuery`): building them with the ORM on every
  request cost more than running them. The querysets stay the home of their rules; the
  selectors run them (:mod:`apps.exams.selectors`).
- The writes of a batch save and of a submission are written out, with the function that runs
  each: the session's row lock (a model instance rebuilt by column name), the additive answer
  upsert over ``unnest`` arrays (one statement for up to 500 answers, stored rows returned),
  the grading and the result. A submission is a fixed number of statements however many
  questions the paper has (tests/exams/test_queries.py).

tests/exams/test_statements.py runs each of them beside the ORM expression it stands for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import BigIntegerField, Func, JSONField, Model
from django.db.models.expressions import RawSQL

from apps.core import sql
from apps.exams.models import (
    ExamAnswer,
    ExamSession,
    ExamTemplate,
    ExamTemplateQuestion,
    SessionStatus,
)
from apps.questions.models import Question, QuestionType

M = TypeVar("M", bound=Model)

# Samples for compiling: never an id or a constant of the querysets.
_ID = -9_000_001
_OTHER_ID = -9_000_002
_MOMENT = datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC)


def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _columns(model: type[Model]) -> dict[str, str]:
    """The model's quoted column names by field name (``session`` -> ``"session_id"``)."""
    return {f.name: sql.quote(str(f.column)) for f in model._meta.concrete_fields}


def instance(model: type[M], row: Mapping[str, Any]) -> M:
    """The ``model`` instance a queryset would have built from a row of a compiled ``values()``
    over every concrete field (:data:`STARTABLE_TEMPLATE`, :data:`OPEN_SESSION`)."""
    names = _attnames(model)
    return model.from_db(connection.alias, names, [row[name] for name in names])


# --- reads compiled once ----------------------------------------------------------------------

STARTABLE_TEMPLATE = sql.CompiledQuery(
    lambda *, template_id: (
        ExamTemplate.objects.filter(id=template_id, is_active=True)
        .order_by()
        .values(*_attnames(ExamTemplate))
    ),
    template_id=_ID,
)
"""Every field of the template ``template_id`` if it is active (what starting reads first)."""

FIXED_QUESTION_IDS = sql.CompiledQuery(
    lambda *, template_id: (
        ExamTemplateQuestion.objects.filter(template_id=template_id)
        .order_by("order", "id")
        .values("question_id")
    ),
    template_id=_ID,
)
"""The question ids a fixed template lists, in the template's order."""

OPEN_SESSION = sql.CompiledQuery(
    lambda *, user_id, template_id: (
        ExamSession.objects.filter(
            user_id=user_id, template_id=template_id, status=SessionStatus.IN_PROGRESS
        )
        .order_by()
        .values(*_attnames(ExamSession))
    ),
    user_id=_ID,
    template_id=_OTHER_ID,
)
"""Every field of the user's session of the template still in progress (at most one)."""

SAVED_ANSWERS = sql.CompiledQuery(
    lambda *, session_id: (
        ExamAnswer.objects.filter(session_id=session_id)
        .order_by("id")
        .values("id", "question_id", "selected_option_ids", "flagged", "time_spent_sec", "saved_at")
    ),
    session_id=_ID,
)
"""The session's saved answers as :class:`SavedAnswer` fields, in saving order."""

LAST_SUBMITTED = sql.CompiledQuery(
    lambda *, user_id: (
        ExamSession.objects.filter(user_id=user_id, submitted_at__isnull=False)
        .order_by("-submitted_at", "-id")
        .values(
            "id", "submitted_at", "template__name", "score_percent", "time_spent_sec", "answered"
        )[:1]
    ),
    user_id=_ID,
)
"""The user's most recently submitted session, with its template's name (the dashboard)."""


def _json_array(value: int) -> Func:
    """``jsonb_build_array(value)``: what ``question_ids @>`` takes to find one id. Django's
    ``JSONArray`` asks the server's version while it compiles, and a ``Value`` is sent wrapped
    in psycopg's ``Int4``, which the compile cannot tell from a constant; the id goes in as it
    is."""
    return Func(
        RawSQL("%s::bigint", (value,), output_field=BigIntegerField()),
        function="jsonb_build_array",
        output_field=JSONField(),
    )


HOLDING_QUESTION = sql.CompiledQuery(
    lambda *, user_id, question_id, deadline_from: (
        ExamSession.objects.filter(user_id=user_id)
        .taking_answers(deadline_from=deadline_from)
        .filter(question_ids__contains=_json_array(question_id))
        .order_by()
        .values("id")
    ),
    user_id=_ID,
    question_id=_OTHER_ID,
    deadline_from=_MOMENT,
)
"""The user's sessions that take answers (deadline no earlier than ``deadline_from``) and hold
``question_id``: what practice embeds in its answer's one read (the ``questions.held_out``
port, :mod:`apps.exams.selectors.held_out`)."""


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    """A saved answer as the candidate's paper, the save's reply and the scoring read it (no
    model instance: a paper has up to 500)."""

    id: int
    question_id: int
    selected_option_ids: list[int]
    flagged: bool
    time_spent_sec: int
    saved_at: datetime


# --- the session's row lock -------------------------------------------------------------------

_SESSIONS = sql.table(ExamSession)
_S = _columns(ExamSession)
_A = _columns(ExamAnswer)
_SESSION_COLUMNS = sql.model_columns(ExamSession, "s", prefix="s")

LOCK_SESSION = (
    f"SELECT {_SESSION_COLUMNS} FROM {_SESSIONS} s WHERE s.id = %(session_id)s FOR UPDATE"  # noqa: S608  # nosec B608 # names from _meta, values are parameters
)
"""The session ``session_id``, row-locked until the end of the transaction (the system's
lookup: the deadline sweep and submit-on-read)."""

LOCK_USER_SESSION = (
    f"SELECT {_SESSION_COLUMNS} FROM {_SESSIONS} s "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    "WHERE s.id = %(session_id)s AND s.user_id = %(user_id)s FOR UPDATE"
)
"""The session ``session_id`` if it is ``user_id``'s, row-locked (the candidate's lookup)."""


def lock_exam_session(*, session_id: int, user_id: int | None) -> ExamSession | None:
    """The session, row-locked until the end of the transaction (``SELECT ... FOR UPDATE``),
    if it exists and (with ``user_id``) belongs to that user."""
    if user_id is None:
        rows = sql.fetch_rows(LOCK_SESSION, {"session_id": session_id})
    else:
        rows = sql.fetch_rows(LOCK_USER_SESSION, {"session_id": session_id, "user_id": user_id})
    return sql.model_from_row(rows[0], ExamSession, prefix="s") if rows else None


_Q = _columns(Question)

LOCK_SESSION_TO_SAVE = (
    f"SELECT {_SESSION_COLUMNS}, ARRAY(SELECT q.{_Q['id']} FROM {sql.table(Question)} q "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    f"WHERE q.{_Q['id']} = ANY(%(question_ids)s::bigint[]) AND q.{_Q['type']} = %(single)s "
    f"ORDER BY 1) AS single_answer_ids FROM {_SESSIONS} s "
    "WHERE s.id = %(session_id)s AND s.user_id = %(user_id)s FOR UPDATE OF s"
)
""":data:`LOCK_USER_SESSION` with, for an answer save, which of ``question_ids`` are single
best answer questions: what the selection rule needs beyond the option ids the session holds,
in the same statement (a save asks only about the selections of more than one option)."""


@dataclass(frozen=True)
class SessionToSave:
    """The session, row-locked, and the single best answer questions among those asked."""

    session: ExamSession
    single_answer_ids: frozenset[int]


def lock_exam_session_to_save(
    *, session_id: int, user_id: int, question_ids: Sequence[int]
) -> SessionToSave | None:
    """The user's session row-locked until the end of the transaction, as
    :func:`lock_exam_session` gives it, with which of ``question_ids`` are of type ``single``
    (as the question is now: the paper shows the current type); ``None`` when the session is
    not the user's."""
    rows = sql.fetch_rows(
        LOCK_SESSION_TO_SAVE,
        {
            "session_id": session_id,
            "user_id": user_id,
            "question_ids": list(question_ids),
            "single": QuestionType.SINGLE.value,
        },
    )
    if not rows:
        return None
    session = sql.model_from_row(rows[0], ExamSession, prefix="s")
    assert session is not None  # nosec B101 # the row is the session's
    return SessionToSave(session=session, single_answer_ids=frozenset(rows[0]["single_answer_ids"]))


# --- saving answers ---------------------------------------------------------------------------

# The fields an answer save may set: a saved answer keeps those its save left out.
SAVED_FIELDS = ("selected_option_ids", "flagged", "time_spent_sec")


UPSERT_ANSWERS = (
    f"INSERT INTO {sql.table(ExamAnswer)} AS a "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    f"({_A['session']}, {_A['saved_at']}, {_A['question']}, {_A['selected_option_ids']}, "
    f"{_A['flagged']}, {_A['time_spent_sec']}) "
    "SELECT %(session_id)s::bigint, %(saved_at)s::timestamptz, u.q, u.s, u.f, u.t "
    "FROM unnest(%(question_ids)s::bigint[], %(selected_option_ids)s::jsonb[], "
    "%(flagged)s::boolean[], %(time_spent_sec)s::integer[]) AS u(q, s, f, t) "
    f"ON CONFLICT ({_A['session']}, {_A['question']}) DO UPDATE SET "
    + ", ".join(
        f"{_A[name]} = CASE WHEN %(set_{name})s THEN EXCLUDED.{_A[name]} ELSE a.{_A[name]} END"
        for name in SAVED_FIELDS
    )
    + f", {_A['saved_at']} = EXCLUDED.{_A['saved_at']} RETURNING "
    f"a.{_A['id']} AS id, a.{_A['question']} AS question_id, "
    f"a.{_A['selected_option_ids']} AS selected_option_ids, a.{_A['flagged']} AS flagged, "
    f"a.{_A['time_spent_sec']} AS time_spent_sec, a.{_A['saved_at']} AS saved_at"
)
"""Inserts or updates one answer per ``question_ids[i]`` of the session, all saved at
``saved_at``. A new answer takes every value; an existing one takes the fields whose
``set_<field>`` is true (and ``saved_at``) and keeps the others. Returns the stored rows."""


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
    params: dict[str, Any] = {
        "session_id": session_id,
        "saved_at": saved_at,
        "question_ids": [r[0] for r in rows],
        "selected_option_ids": [json.dumps(r[1]) for r in rows],
        "flagged": [r[2] for r in rows],
        "time_spent_sec": [r[3] for r in rows],
        **{f"set_{name}": name in given for name in SAVED_FIELDS},
    }
    return sql.fetch_all(UPSERT_ANSWERS, params, into=SavedAnswer)


# --- scoring ------------------------------------------------------------------------------------

MARK_ANSWERS = (
    f"UPDATE {sql.table(ExamAnswer)} AS a SET {_A['is_correct']} = "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    f"(a.{_A['id']} = ANY(%(correct_ids)s::bigint[])), {_A['question_version']} = COALESCE("
    "(SELECT u.v FROM unnest(%(question_ids)s::bigint[], %(versions)s::integer[]) AS u(q, v) "
    f"WHERE u.q = a.{_A['question']}), a.{_A['question_version']}) "
    f"WHERE a.{_A['session']} = %(session_id)s"
)
"""Grades every answer of the session: those in ``correct_ids`` correct, all others wrong; an
answer to ``question_ids[i]`` records ``versions[i]`` (the version of the key it was graded
on), one to a question not listed keeps the version it had."""


def mark_answers(
    *,
    session_id: int,
    correct_answer_ids: Sequence[int],
    question_versions: Mapping[int, int] | None = None,
) -> None:
    """Stores the grading: the listed answers of the session are correct, all others wrong, and
    each answer records its question's version from ``question_versions`` (``{question_id:
    version}``, as :attr:`apps.questions.selectors.PaperKey.version_of` gives it)."""
    versions = dict(question_versions or {})
    sql.execute(
        MARK_ANSWERS,
        {
            "session_id": session_id,
            "correct_ids": list(correct_answer_ids),
            "question_ids": list(versions),
            "versions": list(versions.values()),
        },
    )


RESULT_FIELDS = (
    "status",
    "submitted_at",
    "auto_submitted",
    "score_percent",
    "correct",
    "answered",
    "time_spent_sec",
    "result",
)

STORE_RESULT = (
    f"UPDATE {_SESSIONS} SET "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    + ", ".join(f"{_S[name]} = %({name})s" for name in RESULT_FIELDS)
    + f" WHERE {_S['id']} = %(session_id)s"
)
"""Writes the outcome fields (:data:`RESULT_FIELDS`) of the session ``session_id``."""


def store_result(session: ExamSession) -> None:
    """Writes the session's outcome fields (as ``save(update_fields=RESULT_FIELDS)`` would)."""
    params = {
        name: ExamSession._meta.get_field(name).get_db_prep_save(  # type: ignore[union-attr]
            getattr(session, name), connection
        )
        for name in RESULT_FIELDS
    }
    sql.execute(STORE_RESULT, {**params, "session_id": session.pk})
