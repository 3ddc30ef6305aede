"""The statements of a practice answer, written out (apps/core/sql.py).

Answering is the hottest write: on the benchmark's machine the ORM spent longer building its
statements than PostgreSQL spent running them (docs/benchmark.md, "practice answer POST"). An
answer costs one read (:func:`answer_context`, which takes the session's row lock) and one
write (:data:`WRITE_ANSWER`), then the learning record's statement.

What "published" means is not written here: the question part of the read is
:data:`PUBLISHED_QUESTION`, a ``Question.objects.published()`` queryset compiled once and
embedded, so the rule stays in ``QuestionQuerySet.published``. tests/practice/
test_statements.py runs each statement beside the ORM expression it stands for.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, QuerySet

from apps.accounts.models import Profile
from apps.core import sql
from apps.practice.models import PracticeAttempt, PracticeSession, ReviewCard, SchedulerParameters
from apps.questions.held_out import held_out_questions
from apps.questions.models import AnswerOption, Question

# --- Reading what an answer needs ------------------------------------------------------------


def _published_question(*, question_id: int) -> QuerySet[Any]:
    """The question if a candidate may answer it (``published()``), as one row: what grading
    and the attempt need, with its option ids and the correct ones among them (arrays, not a
    row per option: no grouping, and the answer's read stays one row)."""
    options = AnswerOption.objects.filter(question_id=OuterRef("pk")).order_by("id")
    return (
        Question.objects.published()
        .filter(id=question_id)
        .order_by()
        .values(
            question_type=F("type"),
            question_version=F("version"),
            question_category_id=F("category_id"),
            question_explanation=F("explanation"),
            question_times_answered=F("times_answered"),
            question_times_correct=F("times_correct"),
            option_ids=ArraySubquery(options.values("id")),
            correct_option_ids=ArraySubquery(options.filter(is_correct=True).values("id")),
        )
    )


PUBLISHED_QUESTION = sql.CompiledQuery(_published_question, question_id=-9_000_001)
_QUESTION, _QUESTION_PARAMS = PUBLISHED_QUESTION.subquery(prefix="q")

# Every table is matched on the parameters rather than on the other tables' columns: the result
# is the same, and PostgreSQL plans it in half the time (fewer join orders). Whether the
# question is already answered is only as fresh as the statement's snapshot, which PostgreSQL
# takes before waiting for the session lock: it turns away the common double submission early,
# and the attempt's unique constraint in WRITE_ANSWER decides the rest. Whether an exam of the
# candidate that still takes answers holds the question (``held_out``) is the query the
# ``questions.held_out`` port gives (exams provides it): embedded here, it costs no statement.
_ANSWER_CONTEXT = (
    "SELECT s.question_ids, s.config, s.category_ids, s.completed_at, "  # noqa: S608  # nosec B608 # names from _meta and the ORM, values are parameters
    f"EXISTS (SELECT 1 FROM {sql.table(PracticeAttempt)} a "
    "WHERE a.session_id = %(session_id)s AND a.question_id = %(question_id)s) AS already_answered, "
    "EXISTS ({held_out}) AS held_out, "
    "q.question_type, q.question_version, q.question_category_id, q.question_explanation, "
    "q.question_times_answered, q.question_times_correct, q.option_ids, q.correct_option_ids, "
    "c.state AS card_state, c.reps AS card_reps, "
    "p.desired_retention, w.parameters AS scheduler_parameters "
    f"FROM {sql.table(PracticeSession)} s "
    f"LEFT JOIN ({_QUESTION}) q ON TRUE "
    f"LEFT JOIN {sql.table(ReviewCard)} c "
    "ON c.user_id = %(user_id)s AND c.question_id = %(question_id)s "
    f"LEFT JOIN {sql.table(Profile)} p ON p.user_id = %(user_id)s "
    f"LEFT JOIN {sql.table(SchedulerParameters)} w ON w.user_id = %(user_id)s "
    "WHERE s.id = %(session_id)s AND s.user_id = %(user_id)s "
    "FOR UPDATE OF s"
)


@functools.lru_cache(maxsize=8)
def _answer_context_embedding(held_out_sql: str) -> str:
    """:data:`_ANSWER_CONTEXT` with the held-out query in place, built once per query text."""
    return _ANSWER_CONTEXT.replace("{held_out}", held_out_sql)


def answer_context(
    *, user_id: int, session_id: int, question_id: int, at: datetime
) -> tuple[str, dict[str, Any]]:
    """The statement of an answer's one read and its parameters: the user's session under its
    row lock, whether it already holds an answer to the question, whether an exam of the user
    that takes answers at ``at`` holds the question, the published question, the user's
    review card for it and what their scheduler needs (desired retention, fitted weights): one
    row of :class:`AnswerContext`, none when the session is not the user's."""
    held = held_out_questions.get().holding(user_id=user_id, question_id=question_id, at=at)
    return _answer_context_embedding(held.sql), {
        **_QUESTION_PARAMS,
        **held.params,
        "q_question_id": question_id,
        "user_id": user_id,
        "session_id": session_id,
        "question_id": question_id,
    }


@dataclass(frozen=True)
class QuestionToAnswer:
    """The published question of :class:`AnswerContext`."""

    type: str
    version: int
    category_id: int
    explanation: str
    times_answered: int
    times_correct: int
    option_ids: list[int]
    correct_option_ids: list[int]


@dataclass(frozen=True)
class AnswerContext:
    """One row of :func:`answer_context`: the user's session (row-locked until the end of the
    transaction), whether it already holds an answer to the question, whether an open exam of
    the user holds the question (its key must not be revealed), the question (``None``
    columns when it is not published, see :meth:`question`) and the user's review card for it
    (``None`` columns when there is none yet), with the user's desired retention and fitted
    FSRS weights (``None`` without a profile or a fit: the defaults apply)."""

    question_ids: list[int]
    config: dict[str, Any]
    category_ids: list[int]
    completed_at: datetime | None
    already_answered: bool
    held_out: bool
    question_type: str | None
    question_version: int | None
    question_category_id: int | None
    question_explanation: str | None
    question_times_answered: int | None
    question_times_correct: int | None
    option_ids: list[int] | None
    correct_option_ids: list[int] | None
    card_state: dict[str, Any] | None
    card_reps: int | None
    desired_retention: float | None = None
    scheduler_parameters: list[float] | None = None

    @property
    def include_explanations(self) -> bool:
        return bool(self.config.get("include_explanations", True))

    def question(self) -> QuestionToAnswer | None:
        """The question, or ``None`` when a candidate may not answer it (not published)."""
        if (
            self.question_type is None
            or self.question_version is None
            or self.question_category_id is None
            or self.question_explanation is None
            or self.question_times_answered is None
            or self.question_times_correct is None
        ):
            return None
        return QuestionToAnswer(
            type=self.question_type,
            version=self.question_version,
            category_id=self.question_category_id,
            explanation=self.question_explanation,
            times_answered=self.question_times_answered,
            times_correct=self.question_times_correct,
            option_ids=self.option_ids or [],
            correct_option_ids=self.correct_option_ids or [],
        )


# --- Writing an answer -----------------------------------------------------------------------

# The attempt, the session's counters and the reviewed card, in one statement. The session and
# the card change only if the attempt was inserted: the attempt's unique constraint, not the
# earlier read, decides whether the session already holds an answer to the question. The card
# is written only if it is still as read (``card_reps``; -1: no card yet, reps are never
# negative), a compare-and-set that needs no row lock; ``card_reviewed`` is false when it was
# not.
WRITE_ANSWER = (
    "WITH new_attempt AS ("  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    f"INSERT INTO {sql.table(PracticeAttempt)} (session_id, question_id, category_id, "
    "selected_option_ids, is_correct, question_version, time_spent_sec, counted_time_sec, "
    "answered_at) "
    "VALUES (%(session_id)s, %(question_id)s, %(category_id)s, %(selected_option_ids)s::jsonb, "
    "%(is_correct)s, %(question_version)s, %(time_spent_sec)s, %(counted_time_sec)s, %(at)s) "
    "ON CONFLICT (session_id, question_id) DO NOTHING RETURNING id"
    "), counters AS ("
    f"UPDATE {sql.table(PracticeSession)} SET answered = answered + 1, "
    "correct = correct + %(correct)s, time_spent_sec = time_spent_sec + %(counted_time_sec)s, "
    "last_activity_at = %(at)s, category_ids = %(category_ids)s::jsonb "
    "WHERE id = %(session_id)s AND EXISTS (SELECT 1 FROM new_attempt) "
    "RETURNING answered, correct"
    "), card AS ("
    f"INSERT INTO {sql.table(ReviewCard)} AS c "
    "(user_id, question_id, state, due, last_review_at, reps, lapses, created_at) "
    "SELECT %(user_id)s, %(question_id)s, %(card_state)s::jsonb, %(card_due)s, "
    "%(card_last_review_at)s, 1, 0, %(at)s WHERE EXISTS (SELECT 1 FROM new_attempt) "
    "ON CONFLICT (user_id, question_id) DO UPDATE SET state = excluded.state, "
    "due = excluded.due, last_review_at = excluded.last_review_at, reps = c.reps + 1, "
    "lapses = c.lapses + %(card_lapsed)s WHERE c.reps = %(card_reps)s RETURNING id"
    ") "
    "SELECT (SELECT id FROM new_attempt) AS attempt_id, "
    "(SELECT answered FROM counters) AS session_answered, "
    "(SELECT correct FROM counters) AS session_correct, "
    "(SELECT count(*) FROM card) > 0 AS card_reviewed"
)


@dataclass(frozen=True)
class WrittenAnswer:
    """The row of :data:`WRITE_ANSWER`; ``attempt_id`` (and the counters) ``None`` when the
    session already held an answer to the question and nothing was written."""

    attempt_id: int | None
    session_answered: int | None
    session_correct: int | None
    card_reviewed: bool
