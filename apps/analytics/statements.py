"""The learning record's written-out SQL: the one statement that records answered questions.

``record_answers`` runs on every practice answer and exam submission. It locks the learner,
inserts the facts and adds the new ones to the day, the category and the questions' statistics
(owned by questions: :func:`apps.questions.statements.question_stats_sql`) in **one**
data-modifying ``WITH``: the ORM would need a round trip per table and cannot add on conflict
(``bulk_create(update_conflicts=True)`` overwrites, and two concurrent writers must both count).
docs/benchmark.md has what it saves; tests/analytics/test_statements.py runs each statement
beside the ORM rebuild of the same aggregates (``recompute_aggregates``).

Each statement comes in two shapes: ``_ONE`` for a single fact given as plain parameters, which
PostgreSQL plans in half the time of the general form (no arrays, no grouping, and a single
question row needs no ordered locking), and ``_MANY`` for a batch given as one array per column
(a fixed number of parameters whatever the batch's size). The parameters are named after
:data:`FACT_COLUMNS`, plus ``now`` and the learners' ids and timezone guesses.

Only names taken from the models' ``_meta`` are interpolated; every value is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.models import Profile
from apps.analytics.models import AnswerFact, CategoryProgress, DailyActivity, LearnerState
from apps.core import sql
from apps.questions.statements import question_stats_sql

FACT_COLUMNS = (
    "user_id",
    "question_id",
    "category_id",
    "source",
    "source_id",
    "is_correct",
    "time_spent_sec",
    "counted_time_sec",
    "answered_at",
    "local_date",
    "question_version",
)
_FACT_TYPES = (
    "bigint",
    "bigint",
    "bigint",
    "varchar",
    "bigint",
    "boolean",
    "integer",
    "integer",
    "timestamptz",
    "date",
    "integer",
)


@dataclass(frozen=True)
class LearnerZone:
    """A learner locked by :data:`LOCK_LEARNERS`, with the profile's timezone (``None``
    without a profile)."""

    user_id: int
    timezone: str | None


@dataclass(frozen=True)
class Recorded:
    recorded: int  # facts newly inserted (a fact already recorded for its session is skipped)


@dataclass(frozen=True)
class LockedAndRecorded:
    wrong_guesses: int  # learners whose profile timezone is not the guess: nothing was recorded
    recorded: int


_STATE = sql.table(LearnerState)
_PROFILE = sql.table(Profile)


def _upsert_learners(rows: str) -> str:
    """Creates, row-locks and moves forward the version of each learner in ``rows`` (``user_id,
    touched_at, version`` in id order, so two batches lock in the same order), returning each
    one's profile timezone: recording an answer needs no separate profile query. The version
    stamps the learner's cached views (``apps.analytics.caching``)."""
    return (
        f"INSERT INTO {_STATE} (user_id, touched_at, version) {rows} "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        "ON CONFLICT (user_id) DO UPDATE SET touched_at = EXCLUDED.touched_at, "
        f"version = {_STATE}.version + 1 "
        f"RETURNING user_id, (SELECT p.timezone FROM {_PROFILE} p "
        f"WHERE p.user_id = {_STATE}.user_id) AS timezone"
    )


_LEARNER_ROWS_ONE = "VALUES (%(user_id)s::bigint, %(now)s::timestamptz, 1)"
_LEARNER_ROWS_MANY = "SELECT u, %(now)s::timestamptz, 1 FROM unnest(%(learner_ids)s::bigint[]) u"

LOCK_LEARNERS = _upsert_learners(_LEARNER_ROWS_MANY)
"""Locks ``learner_ids`` (sorted, unique) until the transaction ends; rows: :class:`LearnerZone`."""


def _recording(*, one: bool, guarded: bool) -> str:
    """The ``WITH`` items that insert the facts (``new_fact``: the ones actually inserted) and
    add them to every aggregate; the sums are those ``recompute_aggregates`` rebuilds with the
    ORM. ``guarded``: no fact is inserted if ``wrong_guess`` has a row."""
    q = sql.quote
    facts, days = sql.table(AnswerFact), sql.table(DailyActivity)
    progress = sql.table(CategoryProgress)
    columns = ", ".join(q(c) for c in FACT_COLUMNS)
    guard = " WHERE NOT EXISTS (SELECT 1 FROM wrong_guess)" if guarded else ""
    typed = [f"%({c})s::{t}" for c, t in zip(FACT_COLUMNS, _FACT_TYPES, strict=True)]
    if one:
        source = "SELECT " + ", ".join(typed)
        day = "1, is_correct::integer, counted_time_sec, 0 FROM new_fact"
        category = "1, is_correct::integer, answered_at FROM new_fact"
        per_question = "1 AS answered, is_correct::integer AS correct FROM new_fact"
    else:
        source = f"SELECT * FROM unnest({', '.join(t + '[]' for t in typed)})"  # noqa: S608  # nosec B608
        counts = "count(*), count(*) FILTER (WHERE is_correct)"
        day = f"{counts}, sum(counted_time_sec), 0 FROM new_fact GROUP BY user_id, local_date"
        category = f"{counts}, max(answered_at) FROM new_fact GROUP BY user_id, category_id"
        per_question = (
            "count(*) AS answered, count(*) FILTER (WHERE is_correct) AS correct "
            "FROM new_fact GROUP BY question_id"
        )
    return (
        f"new_fact AS (INSERT INTO {facts} ({columns}) {source}{guard} "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        "ON CONFLICT (user_id, source, source_id, question_id) DO NOTHING "
        "RETURNING user_id, question_id, category_id, is_correct, counted_time_sec, "
        "answered_at, local_date), "
        f"day AS (INSERT INTO {days} AS t "
        f"(user_id, {q('date')}, answered, correct, time_spent_sec, reading_sec) "
        f"SELECT user_id, local_date, {day} "
        f"ON CONFLICT (user_id, {q('date')}) DO UPDATE SET "
        "answered = t.answered + excluded.answered, correct = t.correct + excluded.correct, "
        "time_spent_sec = t.time_spent_sec + excluded.time_spent_sec), "
        f"category AS (INSERT INTO {progress} AS t "
        "(user_id, category_id, answered, correct, last_practiced_at) "
        f"SELECT user_id, category_id, {category} "
        "ON CONFLICT (user_id, category_id) DO UPDATE SET "
        "answered = t.answered + excluded.answered, correct = t.correct + excluded.correct, "
        "last_practiced_at = GREATEST(t.last_practiced_at, excluded.last_practiced_at)), "
        f"answered_question AS (SELECT question_id, {per_question}), "
        f"{question_stats_sql(counts='answered_question', ordered_locks=not one)}"
    )


_COUNT_NEW = "SELECT count(*) AS recorded FROM new_fact"

RECORD_ONE = f"WITH {_recording(one=True, guarded=False)} {_COUNT_NEW}"
"""The learner already locked (:data:`LOCK_LEARNERS`): records one fact (its columns as
parameters) and adds it to every aggregate if it is new. Row: :class:`Recorded`."""

RECORD_MANY = f"WITH {_recording(one=False, guarded=False)} {_COUNT_NEW}"
"""As :data:`RECORD_ONE` for a batch: one array per column, keys unique. Row: :class:`Recorded`."""


def _lock_and_record(*, one: bool) -> str:
    """:data:`LOCK_LEARNERS` and :data:`RECORD_ONE`/:data:`RECORD_MANY` in one statement, the
    facts dated by the timezones this process last read and written only if every guess is
    still the profile's (``wrong_guess`` is empty). The facts are read only once no guess is
    found wrong, that is once the whole ``learner`` upsert has run: the learners are locked
    before any fact or aggregate is written, as in the two-statement path."""
    if one:
        rows = _LEARNER_ROWS_ONE
        wrong = "SELECT 1 FROM learner l WHERE l.timezone IS DISTINCT FROM %(zone)s::text"
    else:
        rows = _LEARNER_ROWS_MANY
        wrong = (
            "SELECT 1 FROM learner l JOIN unnest(%(learner_ids)s::bigint[], %(zones)s::text[]) "
            "AS g (user_id, tz) ON g.user_id = l.user_id WHERE l.timezone IS DISTINCT FROM g.tz"
        )
    return (
        f"WITH learner AS ({_upsert_learners(rows)}), wrong_guess AS ({wrong}), "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"{_recording(one=one, guarded=True)} "
        "SELECT (SELECT count(*) FROM wrong_guess) AS wrong_guesses, "
        "(SELECT count(*) FROM new_fact) AS recorded"
    )


LOCK_AND_RECORD_ONE = _lock_and_record(one=True)
"""One fact of one learner (``zone``: the guessed timezone). Row: :class:`LockedAndRecorded`."""

LOCK_AND_RECORD_MANY = _lock_and_record(one=False)
"""A batch (``learner_ids`` sorted, their guessed ``zones``). Row: :class:`LockedAndRecorded`."""
