"""A user's past sessions: the history list, the dashboard's last exam and the personal-data
export."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Prefetch, QuerySet
from django.db.models.functions import JSONObject

from apps.accounts.models import User
from apps.exams.models import ExamAnswer, ExamSession, ExamSessionEvent, ExamSitting
from apps.exams.statements import LAST_SUBMITTED


def exam_history(*, user: User) -> QuerySet[ExamSession]:
    """The caller's sessions, newest first (one query per page, template name joined)."""
    return (
        ExamSession.objects.filter(user=user)
        .select_related("template")
        .defer("question_ids", "option_order", "result")
        .order_by("-started_at", "-id")
    )


def last_exam_summary(*, user_id: int) -> dict[str, Any] | None:
    """The user's most recently submitted exam for the dashboard, in one query, or None.

    ``{"submitted_at", "exam", "score_percent", "time_spent_min", "answered", "session_id"}``.
    On every uncached dashboard, so the query is compiled once (apps/exams/statements.py).
    """
    row = LAST_SUBMITTED.fetch_first(user_id=user_id)
    if row is None:
        return None
    return {
        "submitted_at": row["submitted_at"],
        "exam": row["template__name"],
        "score_percent": row["score_percent"] or 0,
        "time_spent_min": ((row["time_spent_sec"] or 0) + 30) // 60,
        "answered": row["answered"] or 0,
        "session_id": row["id"],
    }


def personal_data(*, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every exam session of the user with its saved answers, the addresses and browsers it was
    sat from and its integrity signals, JSON-ready. Two queries: the sittings and signals come
    with each session as JSON arrays built by the database (their times as PostgreSQL writes
    ISO 8601).

    An open session's answers carry ``is_correct`` null (they are scored only on submission), so
    the export never reveals the key of a paper still being sat."""
    sessions = (
        ExamSession.objects.filter(user_id=user_id)
        .select_related("template")
        .prefetch_related(Prefetch("answers", queryset=ExamAnswer.objects.order_by("id")))
        .annotate(
            sitting_rows=ArraySubquery(
                ExamSitting.objects.filter(session=OuterRef("pk"))
                .order_by("first_seen_at", "id")
                .values(
                    json=JSONObject(
                        ip_address="ip_address",
                        user_agent="user_agent",
                        first_seen_at="first_seen_at",
                    )
                )
            ),
            event_rows=ArraySubquery(
                ExamSessionEvent.objects.filter(session=OuterRef("pk"))
                .order_by("recorded_at", "id")
                .values(
                    json=JSONObject(
                        kind="kind",
                        source="source",
                        occurred_at="occurred_at",
                        recorded_at="recorded_at",
                    )
                )
            ),
        )
        .order_by("started_at", "id")
    )
    return {
        "exam_sessions": [
            {
                "id": s.pk,
                "template_id": s.template_id,
                "template_name": s.template.name,
                "status": s.status,
                "question_ids": s.question_ids,
                "started_at": s.started_at.isoformat(),
                "expires_at": s.expires_at.isoformat(),
                "submitted_at": s.submitted_at.isoformat() if s.submitted_at else None,
                "auto_submitted": s.auto_submitted,
                "score_percent": s.score_percent,
                "correct": s.correct,
                "answered": s.answered,
                "time_spent_sec": s.time_spent_sec,
                "answers": [
                    {
                        "question_id": a.question_id,
                        "selected_option_ids": a.selected_option_ids,
                        "flagged": a.flagged,
                        "time_spent_sec": a.time_spent_sec,
                        "saved_at": a.saved_at.isoformat(),
                        "is_correct": None if s.is_open else a.is_correct,
                        "question_version": a.question_version,
                    }
                    for a in s.answers.all()
                ],
                "sittings": s.sitting_rows,
                "integrity_events": s.event_rows,
            }
            for s in sessions
        ]
    }
