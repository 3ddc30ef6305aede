"""What exams tells practice through the ``questions.held_out`` port: the questions of a
candidate's exams that still take answers, whose keys practice must not reveal."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from apps.exams.models import ExamSession
from apps.exams.selectors.sessions import deadline_from
from apps.exams.statements import HOLDING_QUESTION
from apps.questions.held_out import PARAM_PREFIX, HeldOutQuery


@cache
def _holding_subquery() -> tuple[str, dict[str, Any]]:
    """:data:`~apps.exams.statements.HOLDING_QUESTION` as SQL to embed, compiled once."""
    return HOLDING_QUESTION.subquery(prefix=PARAM_PREFIX.rstrip("_"))


class OpenExamQuestions:
    """The ``questions.held_out`` implementation: "open" is what a save accepts (in progress,
    before the deadline plus grace), so a question is held out exactly as long as its exam
    answer can still change."""

    def question_ids(self, *, user_id: int, at: datetime) -> set[int]:
        rows = (
            ExamSession.objects.filter(user_id=user_id)
            .taking_answers(deadline_from=deadline_from(at))
            .values_list("question_ids", flat=True)
        )
        return {question_id for question_ids in rows for question_id in question_ids}

    def holding(self, *, user_id: int, question_id: int, at: datetime) -> HeldOutQuery:
        text, constants = _holding_subquery()
        return HeldOutQuery(
            sql=text,
            params={
                **constants,
                f"{PARAM_PREFIX}user_id": user_id,
                f"{PARAM_PREFIX}question_id": question_id,
                f"{PARAM_PREFIX}deadline_from": deadline_from(at),
            },
        )


open_exam_questions = OpenExamQuestions()
