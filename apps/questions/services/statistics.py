"""The questions' anonymous answer statistics (``times_answered``, ``times_correct``): "how many
candidates got this right", kept when an account is deleted.

Answers recorded through the learning record add their counts inside that record's own
statement, with :func:`apps.questions.statements.question_stats_sql`; anything else adds them
with :func:`record_question_stats`."""

from __future__ import annotations

from collections.abc import Mapping

from apps.core import sql
from apps.questions import statements

__all__ = ["question_stats_sql", "record_question_stats"]

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
