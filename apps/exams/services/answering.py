"""Saving answers against the server's clock, under the session's row lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.exceptions import NotFound, ValidationFailed
from apps.exams.exceptions import ExamExpired, ExamSubmitted
from apps.exams.models import ExamSession
from apps.exams.selectors import is_past_deadline
from apps.exams.statements import (
    SAVED_FIELDS,
    SavedAnswer,
    lock_exam_session_to_save,
    upsert_answers,
)
from apps.questions.grading import selection_error
from apps.questions.models import QuestionType

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
    *, user: User, session_id: int, answers: Sequence[AnswerInput], field_prefix: str = "attempts"
) -> list[SavedAnswer]:
    """Upserts the answers (all or nothing) while the session is open and before its deadline
    plus grace. Client clocks play no part: the server's now decides. Returns the answers as
    stored, in the order given.

    Raises ``NotFound`` (not the caller's session), ``ExamSubmitted`` / ``ExamExpired`` (409)
    and ``ValidationFailed`` (a question not in the session, the same question twice, a
    selection practice would refuse too: see :func:`apps.questions.grading.selection_error`;
    ``[]`` is allowed and clears the answer). Validation errors are keyed
    ``<field_prefix>.<index>.<field>``, or just ``<field>`` when ``field_prefix`` is empty (a
    single answer).

    The selection rule is checked against the option ids the session stored at the start and,
    for selections of more than one option, the question types read with the session's row
    lock: no statement per answer. One upsert per combination of fields sent (a batch sent
    alike is one statement), nothing read back: a field left out is left alone by the upsert
    itself.
    """
    if not answers:
        raise ValidationFailed(
            "Send at least one answer.", fields={field_prefix or "question_id": ["Required."]}
        )
    # Only a selection of several options can break the one-option rule of single questions.
    several = [
        given.question_id
        for given in answers
        if given.selected_option_ids is not None and len(set(given.selected_option_ids)) > 1
    ]
    with transaction.atomic():
        locked = lock_exam_session_to_save(
            session_id=session_id, user_id=user.pk, question_ids=several
        )
        if locked is None:
            raise NotFound("No such exam session.")
        session = locked.session
        if not session.is_open:
            raise ExamSubmitted()
        now = timezone.now()
        if is_past_deadline(session, now=now):
            raise ExamExpired()
        _validate_answers(
            session, answers, field_prefix, single_answer_ids=locked.single_answer_ids
        )

        duration = int((session.expires_at - session.started_at).total_seconds())
        limit = min(MAX_TIME_PER_ANSWER_SEC, duration)
        groups: dict[tuple[str, ...], list[tuple[int, list[int], bool, int]]] = {}
        for given in answers:
            sent = (
                given.selected_option_ids is not None,
                given.flagged is not None,
                given.time_spent_sec is not None,
            )
            fields = tuple(f for f, present in zip(SAVED_FIELDS, sent, strict=True) if present)
            groups.setdefault(fields, []).append(
                (
                    given.question_id,
                    sorted(set(given.selected_option_ids or ())),
                    bool(given.flagged),
                    max(0, min(given.time_spent_sec or 0, limit)),
                )
            )
        stored: dict[int, SavedAnswer] = {}
        for fields, rows in groups.items():
            for saved in upsert_answers(
                session_id=session.id, saved_at=now, given=fields, rows=rows
            ):
                stored[saved.question_id] = saved
    return [stored[given.question_id] for given in answers]


def _validate_answers(
    session: ExamSession,
    answers: Sequence[AnswerInput],
    field_prefix: str,
    *,
    single_answer_ids: frozenset[int],
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
            error = selection_error(
                question_type=(
                    QuestionType.SINGLE
                    if given.question_id in single_answer_ids
                    else QuestionType.MULTI
                ),
                option_ids=session.option_order.get(str(given.question_id), ()),
                selected=given.selected_option_ids,
                allow_empty=True,
            )
            if error is not None:
                errors[key(index, "selected_option_ids")] = [error]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
