"""Saving answers against the server's clock, under the session's row lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import NotFound, ValidationFailed
from apps.exams.exceptions import ExamExpired, ExamSubmitted
from apps.exams.models import (
    ExamAnswer,
    ExamSession,
)
from apps.exams.selectors import (
    is_past_deadline,
)

MAX_TIME_PER_ANSWER_SEC = 24 * 3600


@dataclass(frozen=True)
class AnswerInput:
    """One answer as sent. ``None`` means "leave what is saved" (or the default for a new one),
    so a candidate can flag a question without resending the selection."""

    question_id: int
    selected_option_ids: list[int] | None = None
    time_spent_sec: int | None = None
    flagged: bool | None = None


def save_exam_answers(
    *, user: Any, session_id: int, answers: Sequence[AnswerInput], field_prefix: str = "attempts"
) -> list[ExamAnswer]:
    """Upserts the answers (all or nothing) while the session is open and before its deadline
    plus grace. Client clocks play no part: the server's now decides.

    Raises ``NotFound`` (not the caller's session), ``ExamSubmitted`` / ``ExamExpired`` (409)
    and ``ValidationFailed`` (a question not in the session, an option not in its question,
    the same question twice). Validation errors are keyed ``<field_prefix>.<index>.<field>``,
    or just ``<field>`` when ``field_prefix`` is empty (a single answer).
    """
    if not answers:
        raise ValidationFailed(
            "Send at least one answer.", fields={field_prefix or "question_id": ["Required."]}
        )
    with transaction.atomic():
        session = ExamSession.objects.select_for_update().filter(id=session_id, user=user).first()
        if session is None:
            raise NotFound("No such exam session.")
        if not session.is_open:
            raise ExamSubmitted()
        now = timezone.now()
        if is_past_deadline(session, now=now):
            raise ExamExpired()
        _validate_answers(session, answers, field_prefix)

        existing = {
            a.question_id: a
            for a in ExamAnswer.objects.filter(
                session=session, question_id__in=[a.question_id for a in answers]
            )
        }
        duration = int((session.expires_at - session.started_at).total_seconds())
        limit = min(MAX_TIME_PER_ANSWER_SEC, duration)
        rows = []
        for given in answers:
            before = existing.get(given.question_id)
            selected = (
                sorted(set(given.selected_option_ids))
                if given.selected_option_ids is not None
                else (list(before.selected_option_ids) if before else [])
            )
            spent = (
                given.time_spent_sec
                if given.time_spent_sec is not None
                else (before.time_spent_sec if before else 0)
            )
            flagged = (
                given.flagged if given.flagged is not None else bool(before and before.flagged)
            )
            rows.append(
                ExamAnswer(
                    session=session,
                    question_id=given.question_id,
                    selected_option_ids=selected,
                    flagged=flagged,
                    time_spent_sec=max(0, min(spent, limit)),
                    saved_at=now,
                )
            )
        ExamAnswer.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["session", "question"],
            update_fields=["selected_option_ids", "flagged", "time_spent_sec", "saved_at"],
        )
    return rows


def _validate_answers(
    session: ExamSession, answers: Sequence[AnswerInput], field_prefix: str
) -> None:
    def key(index: int, field: str) -> str:
        return f"{field_prefix}.{index}.{field}" if field_prefix else field

    in_session = set(session.question_ids)
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, given in enumerate(answers):
        if given.question_id not in in_session:
            errors[key(index, "question_id")] = ["This question is not part of this exam."]
            continue
        if given.question_id in seen:
            errors[key(index, "question_id")] = ["The same question is answered twice."]
            continue
        seen.add(given.question_id)
        if given.selected_option_ids is not None:
            allowed = set(session.option_order.get(str(given.question_id), []))
            strangers = sorted(set(given.selected_option_ids) - allowed)
            if strangers:
                errors[key(index, "selected_option_ids")] = [
                    f"Option {strangers[0]} is not an option of this question."
                ]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
