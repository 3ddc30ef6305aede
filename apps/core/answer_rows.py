"""Reading answer rows keyed by (session, question) in chunks: what practice attempts and exam
answers share for item analysis (apps/quality), in one place since those two apps may not import
each other."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model

SESSION_CHUNK = 5000  # session ids per statement: one array parameter each


def selections_by_session_question(
    model: type[Model], *, keys: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], list[int]]:
    """``{(session_id, question_id): selected option ids}`` for these keys, read from ``model``
    (a row per session and question with ``selected_option_ids``). One statement per chunk of
    sessions, each served by the ``(session, question)`` unique index; keys without a row are
    absent."""
    wanted = set(keys)
    found: dict[tuple[int, int], list[int]] = {}
    if not wanted:
        return found
    question_ids = sorted({q for _, q in wanted})
    session_ids = sorted({s for s, _ in wanted})
    manager = model._default_manager
    for start in range(0, len(session_ids), SESSION_CHUNK):
        rows = manager.filter(
            session_id__any=session_ids[start : start + SESSION_CHUNK],
            question_id__any=question_ids,
        ).values_list("session_id", "question_id", "selected_option_ids")
        for session_id, question_id, selected in rows:
            if (session_id, question_id) in wanted:
                found[(session_id, question_id)] = list(selected or [])
    return found
