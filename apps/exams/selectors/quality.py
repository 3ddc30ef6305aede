"""What item analysis (apps/quality) reads from exams: the options picked in given answers."""

from __future__ import annotations

from collections.abc import Iterable

from apps.core.answer_rows import selections_by_session_question
from apps.exams.models import ExamAnswer


def answer_selections(*, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """``{(session_id, question_id): selected option ids}`` for these exam answers; keys without
    an answer are absent. Only for submitted sessions' answers (the learning record holds no
    other), so nothing here reveals an open paper."""
    return selections_by_session_question(ExamAnswer, keys=keys)
