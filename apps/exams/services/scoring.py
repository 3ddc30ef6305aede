"""Scoring a session exactly once, whoever asks (the candidate, the deadline sweep, a read)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import record_event
from apps.core.exceptions import NotFound
from apps.exams.models import ExamSession, SessionStatus
from apps.exams.selectors import (
    expired_open_session_ids,
    grace,
    is_past_deadline,
    saved_answers,
)
from apps.exams.statements import SavedAnswer, lock_exam_session, mark_answers, store_result
from apps.questions.grading import is_selection_correct
from apps.questions.learning import AnsweredQuestion, publish_answers
from apps.questions.selectors import PaperKey, paper_key

SubmitTrigger = Literal["candidate", "deadline"]


def submit_exam_session(
    *, session_id: int, user: User | None = None, trigger: SubmitTrigger = "candidate"
) -> ExamSession:
    """Scores and locks the session exactly once; any later (or concurrent) call returns the
    stored result without scoring again. ``user`` scopes the lookup (None: the system, for the
    deadline). Unanswered questions count as wrong."""
    session, _ = _submit(session_id=session_id, user=user, trigger=trigger)
    return session


def submit_if_past_deadline(*, session: ExamSession) -> ExamSession:
    """Scores an open session whose deadline has passed (submit-on-read), so that a stopped
    worker never leaves one open. Returns the (possibly refreshed) session."""
    if session.is_open and is_past_deadline(session):
        scored = submit_exam_session(session_id=session.id, trigger="deadline")
        scored.template = session.template
        return scored
    return session


def submit_expired_sessions(*, user: User | None = None, limit: int = 500) -> int:
    """Scores every open session past its deadline (all users, or one user's); idempotent.
    Returns how many this call scored."""
    scored = 0
    for session_id in expired_open_session_ids(user=user, limit=limit):
        _, did_score = _submit(session_id=session_id, user=None, trigger="deadline")
        scored += int(did_score)
    return scored


@transaction.atomic
def _submit(
    *, session_id: int, user: User | None, trigger: SubmitTrigger
) -> tuple[ExamSession, bool]:
    session = lock_exam_session(session_id=session_id, user_id=None if user is None else user.pk)
    if session is None:
        raise NotFound("No such exam session.")
    if not session.is_open:
        return session, False
    _score(session, now=timezone.now(), trigger=trigger, actor=user)
    return session, True


def _score(
    session: ExamSession, *, now: datetime, trigger: SubmitTrigger, actor: User | None
) -> None:
    """Grades the stored answers and writes the result; a constant number of statements
    however many questions the session has."""
    cutoff = session.expires_at + grace()
    answers = saved_answers(session_id=session.id)
    key = paper_key(question_ids=session.question_ids)
    category_of = key.category_of
    counted = counted_answers(session, answers, key)
    correct_ids: list[int] = []
    correct_questions: set[int] = set()
    for answer in counted:
        if is_selection_correct(
            correct_option_ids=key.correct_option_ids[answer.question_id],
            selected_option_ids=answer.selected_option_ids,
        ):
            correct_ids.append(answer.id)
            correct_questions.add(answer.question_id)
    if answers:
        mark_answers(
            session_id=session.id,
            correct_answer_ids=correct_ids,
            question_versions=key.version_of,  # the review shows the key these were graded on
        )

    session.status = SessionStatus.EXPIRED_SUBMITTED if now > cutoff else SessionStatus.SUBMITTED
    session.submitted_at = now
    session.auto_submitted = trigger == "deadline"
    session.time_spent_sec = max(
        0, int((min(now, session.expires_at) - session.started_at).total_seconds())
    )
    total = apply_result(
        session,
        key=key,
        answered_questions={a.question_id for a in counted},
        correct_questions=correct_questions,
    )
    correct = len(correct_questions)
    store_result(session)
    publish_answers(
        answers=[
            AnsweredQuestion(
                user_id=session.user_id,
                question_id=a.question_id,
                category_id=category_of[a.question_id],
                is_correct=a.question_id in correct_questions,
                time_spent_sec=a.time_spent_sec,
                answered_at=a.saved_at,
                source="exam",
                source_id=session.id,
                question_version=key.version_of.get(a.question_id),
            )
            for a in counted
        ]
    )
    record_event(
        kind="session",
        action="exam.auto_submit" if trigger == "deadline" else "exam.submit",
        actor=None if trigger == "deadline" else (actor or session.user),
        target=session,
        subject_user_id=session.user_id,
        after={
            "status": session.status,
            "score_percent": session.score_percent,
            "correct": correct,
            "answered": session.answered,
            "total": total,
        },
    )


def counted_answers(
    session: ExamSession, answers: Sequence[SavedAnswer], key: PaperKey
) -> list[SavedAnswer]:
    """The answers that count: a selection saved by the deadline plus grace, to a question
    still in the bank. Saves are refused after the cutoff; this keeps the rule true even for
    rows written by any other path. Scoring and rescoring (``rescoring.py``) both use it."""
    cutoff = session.expires_at + grace()
    return [
        a
        for a in answers
        if a.selected_option_ids and a.saved_at <= cutoff and a.question_id in key.category_of
    ]


def apply_result(
    session: ExamSession,
    *,
    key: PaperKey,
    answered_questions: set[int],
    correct_questions: set[int],
) -> int:
    """Sets the session's outcome (score, counts, the stored ``result`` with its per-category
    breakdown) from which questions were answered and which were right; ``time_spent_sec`` must
    already be set. Returns the paper's total. The one home of the result's shape, used by the
    first scoring and by a rescoring after a re-key.

    A question hard-deleted from the bank during the sitting (possible only while nobody has
    answered it) is dropped from the paper rather than counted against the candidate."""
    present = [qid for qid in session.question_ids if qid in key.category_of]
    total = len(present)
    correct = len(correct_questions)
    session.score_percent = percent(correct, total)
    session.correct = correct
    session.answered = len(answered_questions)
    session.result = {
        "score_percent": session.score_percent,
        "correct": correct,
        "answered": session.answered,
        "total": total,
        "time_spent_sec": session.time_spent_sec,
        "categories": _category_breakdown(present, key, answered_questions, correct_questions),
    }
    return total


def percent(part: int, whole: int) -> int:
    """Whole-number percentage, halves rounded up (0 for an empty whole)."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def _category_breakdown(
    question_ids: Sequence[int], key: PaperKey, answered: set[int], correct: set[int]
) -> list[dict[str, Any]]:
    tally: dict[int, dict[str, int]] = {}
    for qid in question_ids:
        counts = tally.setdefault(key.category_of[qid], {"total": 0, "answered": 0, "correct": 0})
        counts["total"] += 1
        counts["answered"] += int(qid in answered)
        counts["correct"] += int(qid in correct)
    return [
        {
            "category_id": category.id,
            "category": category.name,
            "category_slug": category.slug,
            **tally[category.id],
            "score_percent": percent(tally[category.id]["correct"], tally[category.id]["total"]),
        }
        for category in key.categories
        if category.id in tally
    ]
