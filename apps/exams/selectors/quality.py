"""What item analysis (apps/quality) reads from exams: the options picked in given answers."""

from __future__ import annotations

from collections.abc import Iterable

from apps.exams.models import ExamAnswer

SESSION_CHUNK = 5000  # session ids per statement: keeps each IN list well inside the bind limit


def answer_selections(*, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """``{(session_id, question_id): selected option ids}`` for these exam answers. One
    statement per chunk of sessions, each served by the ``(session, question)`` unique index;
    keys without an answer are absent. Only for submitted sessions' answers (the learning
    record holds no other), so nothing here reveals an open paper."""
    wanted = set(keys)
    found: dict[tuple[int, int], list[int]] = {}
    if not wanted:
        return found
    question_ids = sorted({q for _, q in wanted})
    session_ids = sorted({s for s, _ in wanted})
    for start in range(0, len(session_ids), SESSION_CHUNK):
        rows = ExamAnswer.objects.filter(
            session_id__in=session_ids[start : start + SESSION_CHUNK],
            question_id__in=question_ids,
        ).values_list("session_id", "question_id", "selected_option_ids")
        for session_id, question_id, selected in rows:
            if (session_id, question_id) in wanted:
                found[(session_id, question_id)] = list(selected or [])
    return found
