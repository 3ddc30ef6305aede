"""Everything practice holds about a user, for the GDPR export."""

from __future__ import annotations

from typing import Any

from apps.practice.models import (
    PracticeAttempt,
    PracticeSession,
    QuestionFlag,
    QuestionReport,
    ReviewCard,
    SchedulerParameters,
)


def personal_data(*, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Everything practice holds about the user, as JSON-ready data: sessions with their
    answers, flags with the private notes, the user's problem reports and spaced-repetition
    cards (with the scheduler's state of each) and their own fitted FSRS weights. Six
    queries."""
    sessions = PracticeSession.objects.filter(user_id=user_id).order_by("created_at", "id")
    attempts: dict[int, list[dict[str, Any]]] = {}
    for a in PracticeAttempt.objects.filter(session__user_id=user_id).order_by("answered_at", "id"):
        attempts.setdefault(a.session_id, []).append(
            {
                "question_id": a.question_id,
                "category_id": a.category_id,
                "selected_option_ids": a.selected_option_ids,
                "is_correct": a.is_correct,
                "question_version": a.question_version,
                "time_spent_sec": a.time_spent_sec,
                "answered_at": a.answered_at.isoformat(),
            }
        )
    return {
        "practice_sessions": [
            {
                "id": s.id,
                "config": s.config,
                "question_ids": s.question_ids,
                "seed": s.seed,
                "answered": s.answered,
                "correct": s.correct,
                "time_spent_sec": s.time_spent_sec,
                "created_at": s.created_at.isoformat(),
                "completed_at": s.completed_at.isoformat() if s.completed_at else None,
                "attempts": attempts.get(s.id, []),
            }
            for s in sessions
        ],
        "question_flags": [
            {
                "question_id": f.question_id,
                "is_flagged": f.is_flagged,
                "note": f.note,
                "created_at": f.created_at.isoformat(),
                "updated_at": f.updated_at.isoformat(),
            }
            for f in QuestionFlag.objects.filter(user_id=user_id).order_by("created_at", "id")
        ],
        "question_reports": [
            {
                "question_id": r.question_id,
                "reason": r.reason,
                "message": r.message,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
            }
            for r in QuestionReport.objects.filter(user_id=user_id).order_by("created_at", "id")
        ],
        "review_cards": [
            {
                "question_id": c.question_id,
                "due": c.due.isoformat(),
                "last_review_at": c.last_review_at.isoformat() if c.last_review_at else None,
                "reps": c.reps,
                "lapses": c.lapses,
                "state": c.state,
                "created_at": c.created_at.isoformat(),
            }
            for c in ReviewCard.objects.filter(user_id=user_id).order_by("created_at", "id")
        ],
        "scheduler_parameters": [
            {
                "parameters": w.parameters,
                "review_count": w.review_count,
                "fitted_at": w.fitted_at.isoformat(),
            }
            for w in SchedulerParameters.objects.filter(user_id=user_id)
        ],
    }
