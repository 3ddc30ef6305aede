from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.exams.models import ExamTemplate
from apps.questions.learning import AnsweredQuestion, answer_recorder
from tests.exams.factories import blueprint_template, make_bank


@pytest.fixture
def template(db: Any) -> ExamTemplate:
    """A 6-question blueprint (3 + 3) over two categories of 5 questions each, 30 minutes."""
    first, second = make_bank(categories=2, per_category=5)
    return blueprint_template({first: 3, second: 3}, duration_minutes=30)


class LearningRecord:
    """Counts what exams publish to the learning record (in front of the real recorder)."""

    def __init__(self) -> None:
        self.calls: list[list[AnsweredQuestion]] = []

    def __call__(self, *, answers: Any) -> None:
        self.calls.append(list(answers))

    def for_session(self, session_id: int) -> list[list[AnsweredQuestion]]:
        return [
            [a for a in call if a.source == "exam" and a.source_id == session_id]
            for call in self.calls
            if any(a.source == "exam" and a.source_id == session_id for a in call)
        ]


@pytest.fixture
def learning_record() -> Iterator[LearningRecord]:
    record = LearningRecord()
    real = answer_recorder.get()

    def recorder(*, answers: Any) -> object:
        record(answers=answers)
        return real(answers=answers)

    with answer_recorder.override(recorder):
        yield record
