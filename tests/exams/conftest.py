from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.exams.models import ExamTemplate
from apps.questions.learning import AnsweredQuestion, answers_recorded
from tests.exams.factories import blueprint_template, make_bank


@pytest.fixture
def template(db: Any) -> ExamTemplate:
    """A 6-question blueprint (3 + 3) over two categories of 5 questions each, 30 minutes."""
    first, second = make_bank(categories=2, per_category=5)
    return blueprint_template({first: 3, second: 3}, duration_minutes=30)


class LearningRecord:
    """Counts what exams publish to the learning record (a test receiver on the real signal)."""

    def __init__(self) -> None:
        self.calls: list[list[AnsweredQuestion]] = []

    def __call__(self, sender: Any, answers: list[AnsweredQuestion], **kwargs: Any) -> None:
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
    answers_recorded.connect(record, weak=False, dispatch_uid="tests.exams.learning_record")
    yield record
    answers_recorded.disconnect(dispatch_uid="tests.exams.learning_record")
