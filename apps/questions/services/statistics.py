"""The questions' anonymous answer statistics (``times_answered``, ``times_correct``): "how many
candidates got this right", kept when an account is deleted.

Answers recorded through the learning record add their counts inside that record's own
statement, with :func:`apps.questions.statements.question_stats_sql`; anything else adds them
with :func:`record_question_stats`."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import F
from django.db.models.functions import Greatest, Least

from apps.core import sql
from apps.questions import statements
from apps.questions.models import Question

__all__ = ["correct_question_stats", "question_stats_sql", "record_question_stats"]

question_stats_sql = statements.question_stats_sql


def record_question_stats(*, counts: Mapping[int, tuple[int, int]]) -> None:
    """Adds ``{question_id: (answered, correct)}`` to the questions' anonymous statistics with
    atomic increments, in one statement (:data:`apps.questions.statements.RECORD_QUESTION_STATS`)
    that locks the rows in id order, so concurrent callers cannot deadlock. Runs inside the
    caller's transaction (no savepoint of its own: a failure aborts the whole recording)."""
    for question_id, (answered, correct) in counts.items():
        if answered < 0 or correct < 0 or correct > answered:
            raise ValueError(f"Impossible counts for question {question_id}: {answered}, {correct}")
    question_ids = sorted(i for i, (answered, _correct) in counts.items() if answered)
    if not question_ids:
        return
    sql.execute(
        statements.RECORD_QUESTION_STATS,
        {
            "question_ids": question_ids,
            "answered": [counts[i][0] for i in question_ids],
            "correct": [counts[i][1] for i in question_ids],
        },
    )


def correct_question_stats(*, question_id: int, correct_delta: int) -> None:
    """Moves the question's ``times_correct`` by ``correct_delta`` after its answers were
    regraded (a re-key): the answers stay counted, only how many were right changes. Kept
    within ``0..times_answered`` (counts from before the statistics existed may be short).
    An atomic update under the row's lock, in the caller's transaction."""
    if not correct_delta:
        return
    Question.objects.filter(pk=question_id).update(
        times_correct=Greatest(0, Least(F("times_answered"), F("times_correct") + correct_delta))
    )
