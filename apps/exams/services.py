"""Exam mode: starting a timed session, saving answers against the server's clock, and scoring
a session exactly once (by the candidate, at the deadline by the periodic task, or on the next
read of an expired session).

Every write to a session happens under a row lock on that session (``SELECT ... FOR UPDATE``),
so answer saves and the submission are serialised: a save either lands before the scoring (and
counts) or sees the submitted state (and is refused). The scoring then feeds the learning record
through :func:`apps.questions.learning.publish_answers` in the same transaction, so the record
is written exactly once or not at all.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from apps.audit.services import record_event
from apps.core.exceptions import NotFound, ValidationFailed
from apps.exams.exceptions import ExamExpired, ExamSubmitted, TemplateUnfillable
from apps.exams.models import (
    ExamAnswer,
    ExamSession,
    ExamTemplate,
    SessionStatus,
    TemplateKind,
)
from apps.exams.selectors import (
    active_exam_template,
    expired_open_session_ids,
    grace,
    is_past_deadline,
    open_exam_session,
    template_availability,
)
from apps.questions.grading import answer_keys, grade
from apps.questions.learning import AnsweredQuestion, publish_answers
from apps.questions.selectors import (
    drawable_question_ids,
    published_questions,
    question_categories,
    questions_for_display,
)
from apps.taxonomy.models import Category

SubmitTrigger = Literal["candidate", "deadline"]
MAX_TIME_PER_ANSWER_SEC = 24 * 3600


# --- Starting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartedSession:
    session: ExamSession
    created: bool


def start_exam_session(*, user: Any, template_id: int) -> StartedSession:
    """Starts a session of an active template, or returns the caller's open one.

    Questions are drawn (blueprint) and their order and each question's option order are
    randomised with a stored seed; ``expires_at`` is the server's now plus the duration. An open
    session whose deadline has passed is scored first and a fresh one started. Raises
    ``NotFound`` for unknown or inactive templates and ``TemplateUnfillable`` (409) when the
    bank cannot supply the questions.
    """
    template = active_exam_template(template_id=template_id)
    existing = open_exam_session(user=user, template_id=template.id)
    if existing is not None:
        if not is_past_deadline(existing):
            return StartedSession(existing, created=False)
        submit_exam_session(session_id=existing.id, trigger="deadline")

    availability = template_availability([template])[template.id]
    if not availability.available:
        raise TemplateUnfillable(
            f"{template.name} cannot be started: {availability.unavailable_reason}"
        )
    seed = random.SystemRandom().getrandbits(62)
    question_ids, option_order = draw_exam_paper(template=template, seed=seed)
    now = timezone.now()
    try:
        with transaction.atomic():
            session = ExamSession.objects.create(
                user=user,
                template=template,
                question_ids=question_ids,
                option_order=option_order,
                seed=seed,
                started_at=now,
                expires_at=now + timedelta(minutes=template.duration_minutes),
            )
            record_event(
                kind="session",
                action="exam.start",
                actor=user,
                target=session,
                subject_user_id=user.id,
                after={
                    "template_id": template.id,
                    "questions": len(question_ids),
                    "expires_at": session.expires_at.isoformat(),
                },
            )
    except IntegrityError:
        # A concurrent start by the same candidate won the race for the one open session.
        winner = open_exam_session(user=user, template_id=template.id)
        if winner is None:
            raise
        return StartedSession(winner, created=False)
    return StartedSession(session, created=True)


def draw_exam_paper(*, template: ExamTemplate, seed: int) -> tuple[list[int], dict[str, list[int]]]:
    """The session's question ids (in the order shown) and each question's option order.

    Deterministic for a given bank, template and seed. Raises ``TemplateUnfillable`` if the bank
    cannot supply the plan (for instance a question was unpublished a moment ago).
    """
    rng = random.Random(seed)
    if template.kind == TemplateKind.FIXED:
        listed = [row.question_id for row in template.fixed_questions.all()]
        published = set(published_questions().filter(id__in=listed).values_list("id", flat=True))
        question_ids = [qid for qid in listed if qid in published]
        if len(question_ids) != template.total_questions or not question_ids:
            raise TemplateUnfillable(f"{template.name} lists questions that are not published.")
        if template.shuffle_questions:
            rng.shuffle(question_ids)
    else:
        items = sorted(template.blueprint_items.all(), key=lambda item: item.category_id)
        pool = drawable_question_ids(category_ids=[item.category_id for item in items])
        category_of = question_categories(question_ids=pool)
        by_category: dict[int, list[int]] = {}
        for qid in pool:
            by_category.setdefault(category_of[qid], []).append(qid)
        question_ids = []
        for item in items:
            candidates = by_category.get(item.category_id, [])
            if len(candidates) < item.count or item.count < 1:
                raise TemplateUnfillable(
                    f"The question bank has too few questions for {template.name}."
                )
            question_ids.extend(rng.sample(candidates, item.count))
        if not question_ids:
            raise TemplateUnfillable(f"{template.name} has no blueprint.")
        rng.shuffle(question_ids)

    option_order: dict[str, list[int]] = {}
    for question in questions_for_display(question_ids=question_ids):
        option_ids = [option.id for option in question.options.all()]
        rng.shuffle(option_ids)
        option_order[str(question.id)] = option_ids
    return question_ids, option_order


# --- Saving answers -----------------------------------------------------------------------------


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


# --- Submitting ---------------------------------------------------------------------------------


def submit_exam_session(
    *, session_id: int, user: Any = None, trigger: SubmitTrigger = "candidate"
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


def submit_expired_sessions(*, user: Any = None, limit: int = 500) -> int:
    """Scores every open session past its deadline (all users, or one user's); idempotent.
    Returns how many this call scored."""
    scored = 0
    for session_id in expired_open_session_ids(user=user, limit=limit):
        _, did_score = _submit(session_id=session_id, user=None, trigger="deadline")
        scored += int(did_score)
    return scored


@transaction.atomic
def _submit(*, session_id: int, user: Any, trigger: SubmitTrigger) -> tuple[ExamSession, bool]:
    lookup = ExamSession.objects.select_for_update().filter(id=session_id)
    if user is not None:
        lookup = lookup.filter(user=user)
    session = lookup.first()
    if session is None:
        raise NotFound("No such exam session.")
    if not session.is_open:
        return session, False
    _score(session, now=timezone.now(), trigger=trigger, actor=user)
    return session, True


def _score(session: ExamSession, *, now: datetime, trigger: SubmitTrigger, actor: Any) -> None:
    """Grades the stored answers and writes the result; a constant number of statements
    however many questions the session has."""
    cutoff = session.expires_at + grace()
    answers = list(ExamAnswer.objects.filter(session=session))
    # Saves are refused after the cutoff; this keeps the rule true even for rows written by
    # any other path.
    counted = [a for a in answers if a.selected_option_ids and a.saved_at <= cutoff]
    keys = answer_keys(question_ids=session.question_ids)
    category_of = question_categories(question_ids=session.question_ids)

    correct_ids: set[int] = set()
    correct_questions: set[int] = set()
    for answer in counted:
        graded = grade(
            correct_option_ids=keys.get(answer.question_id, []),
            selected_option_ids=answer.selected_option_ids,
        )
        if graded.is_correct:
            correct_ids.add(answer.id)
            correct_questions.add(answer.question_id)
        answer.is_correct = graded.is_correct
    if correct_ids:
        ExamAnswer.objects.filter(session=session).update(
            is_correct=Case(When(id__in=correct_ids, then=Value(True)), default=Value(False))
        )
    elif answers:
        ExamAnswer.objects.filter(session=session).update(is_correct=False)

    # A question hard-deleted from the bank during the sitting (possible only while nobody has
    # answered it) is dropped from the paper rather than counted against the candidate.
    present = [qid for qid in session.question_ids if qid in category_of]
    total = len(present)
    answered_questions = {a.question_id for a in counted}
    correct = len(correct_questions)
    time_spent_sec = max(
        0, int((min(now, session.expires_at) - session.started_at).total_seconds())
    )
    session.status = SessionStatus.EXPIRED_SUBMITTED if now > cutoff else SessionStatus.SUBMITTED
    session.submitted_at = now
    session.auto_submitted = trigger == "deadline"
    session.score_percent = percent(correct, total)
    session.correct = correct
    session.answered = len(answered_questions)
    session.time_spent_sec = time_spent_sec
    session.result = {
        "score_percent": session.score_percent,
        "correct": correct,
        "answered": session.answered,
        "total": total,
        "time_spent_sec": time_spent_sec,
        "categories": _category_breakdown(
            present, category_of, answered_questions, correct_questions
        ),
    }
    session.save(
        update_fields=[
            "status",
            "submitted_at",
            "auto_submitted",
            "score_percent",
            "correct",
            "answered",
            "time_spent_sec",
            "result",
        ]
    )
    publish_answers(
        answers=[
            AnsweredQuestion(
                user_id=session.user_id,
                question_id=a.question_id,
                category_id=category_of[a.question_id],
                is_correct=bool(a.is_correct),
                time_spent_sec=a.time_spent_sec,
                answered_at=a.saved_at,
                source="exam",
                source_id=session.id,
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


def percent(part: int, whole: int) -> int:
    """Whole-number percentage, halves rounded up (0 for an empty whole)."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def _category_breakdown(
    question_ids: Sequence[int],
    category_of: dict[int, int],
    answered: set[int],
    correct: set[int],
) -> list[dict[str, Any]]:
    tally: dict[int, dict[str, int]] = {}
    for qid in question_ids:
        counts = tally.setdefault(category_of[qid], {"total": 0, "answered": 0, "correct": 0})
        counts["total"] += 1
        counts["answered"] += int(qid in answered)
        counts["correct"] += int(qid in correct)
    categories = Category.objects.filter(id__in=list(tally)).order_by("order", "name")
    return [
        {
            "category_id": category.id,
            "category": category.name,
            "category_slug": category.slug,
            **tally[category.id],
            "score_percent": percent(tally[category.id]["correct"], tally[category.id]["total"]),
        }
        for category in categories.only("id", "name", "slug", "order")
    ]
