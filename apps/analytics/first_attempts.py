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

from django.db import connections, router
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

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
