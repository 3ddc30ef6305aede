"""The learning record's subscription to the answers port (``apps.questions.learning``)."""

from __future__ import annotations

from typing import Any

from apps.analytics.services import record_answers
from apps.questions.learning import AnsweredQuestion


def on_answers_recorded(sender: Any, *, answers: list[AnsweredQuestion], **kwargs: Any) -> None:
    """Runs inside the publisher's transaction; an error here rolls the publisher back, so an
    answer is never accepted without being recorded."""
    record_answers(answers=answers)
