"""The port through which practice and exams report answered questions to the learning record.

Practice and exams sit below analytics in the layer order, so they may not import it. They
call :func:`publish_answers` inside their own transaction; analytics provides the recorder (in
its ``AppConfig.ready``), which writes the attempt facts, the aggregates and the cache
invalidation in that same transaction, so an error there rolls the answer back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from apps.core.ports import Port

AnswerSource = Literal["practice", "exam"]


@dataclass(frozen=True)
class AnsweredQuestion:
    user_id: int
    question_id: int
    category_id: int
    is_correct: bool
    time_spent_sec: int
    answered_at: datetime
    source: AnswerSource
    source_id: int  # the practice or exam session id
    question_version: int | None = None  # the version answered (None: not known)


class AnswerRecorder(Protocol):
    def __call__(self, *, answers: Sequence[AnsweredQuestion]) -> object: ...


answer_recorder: Port[AnswerRecorder] = Port(
    "questions.answer_recorder",
    description="Records answered questions in the caller's transaction (analytics).",
)


def publish_answers(*, answers: list[AnsweredQuestion]) -> None:
    """Report answers to the learning record. Call inside the caller's transaction."""
    if answers:
        answer_recorder.get()(answers=answers)
