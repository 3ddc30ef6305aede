"""The port through which practice and exams report answered questions to the learning record.

Practice and exams sit below analytics in the layer order, so they may not import it. They
call :func:`publish_answers` inside their own transaction; analytics subscribes (in its
``AppConfig.ready``) and writes the attempt facts, the aggregates and the cache invalidation in
that same transaction. Exactly one receiver is expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.dispatch import Signal

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


answers_recorded = Signal()  # kwargs: answers=list[AnsweredQuestion]


def publish_answers(*, answers: list[AnsweredQuestion]) -> None:
    """Report answers to the learning record. Call inside the caller's transaction."""
    if answers:
        answers_recorded.send(sender=AnsweredQuestion, answers=answers)
