"""The port through which the mock draw learns which questions a candidate has answered.

A mock puts questions the candidate has never met first, in practice as well as in exams. The
learning record (analytics) holds every answer, but it sits above exams in the layer order and
exams sits beside practice, so exams asks through this port and analytics provides the answer
(in its ``AppConfig.ready``). What the candidate was shown in earlier mocks exams reads itself
(:func:`apps.exams.selectors.drawing.mock_history`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Protocol

from apps.core.ports import Port


class AnsweredQuestions(Protocol):
    def __call__(
        self, *, user_id: int, category_ids: Collection[int]
    ) -> Mapping[int, datetime]: ...


answered_questions: Port[AnsweredQuestions] = Port(
    "exams.answered_questions",
    description="When a candidate last answered each question of some categories (analytics).",
)


def last_answered(*, user_id: int, category_ids: Collection[int]) -> dict[int, datetime]:
    """``{question_id: when the candidate last answered it}`` over the questions of these
    categories the candidate has answered, in practice or in an exam (one set read, bounded by
    the candidate's own history, never by the bank)."""
    if not category_ids:
        return {}
    return dict(answered_questions.get()(user_id=user_id, category_ids=category_ids))
