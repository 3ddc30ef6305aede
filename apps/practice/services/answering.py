"""Answering a practice question: grading, recording, reviewing the card, reporting it.

Each answer is graded with the one grading rule (``apps.questions.grading``) and reported to
the learning record (``apps.questions.learning.publish_answers``) in the same transaction.

Spaced repetition: every practice answer is also a review of the candidate's FSRS card for that
question (:class:`~apps.practice.models.ReviewCard`, created on the first answer), in the same
transaction. How an answer becomes a review is in :mod:`apps.practice.spaced_repetition`. Exam
answers are not fed into the scheduler: exams are assessments, not study, and must not move
what practice asks next.

Time spent on an answer is stored as the client reported it; statistics (the session's total
and the learning record) count at most ``ANALYTICS_ANSWER_TIME_CAP_SEC`` of it, so that a tab
left open overnight does not become eight hours of study.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core import sql
from apps.core.exceptions import ValidationFailed
from apps.practice import statements
from apps.practice.exceptions import (
    AlreadyAnswered,
    QuestionInOpenExam,
    QuestionNotInSession,
    QuestionUnavailable,
    SessionCompleted,
    SessionNotFound,
)
from apps.practice.models import ReviewCard
from apps.practice.selectors import score_percent
from apps.practice.spaced_repetition import Review, review, scheduler_for
from apps.practice.statements import AnswerContext, WrittenAnswer
from apps.questions.grading import grade, validate_selection
from apps.questions.learning import AnsweredQuestion, publish_answers


def max_counted_time_sec() -> int:
    """The most one answer adds to study-time statistics (the learning record's cap, so that
    a session's total and the learner's study time agree)."""
    return int(getattr(settings, "ANALYTICS_ANSWER_TIME_CAP_SEC", 600))


@dataclass(frozen=True)
class AnswerFeedback:
    attempt_id: int
    is_correct: bool
    correct_option_ids: list[int]
    explanation: str | None
    percent_correct_others: int | None
    session_answered: int
    session_correct: int
    session_question_count: int


@transaction.atomic
def record_practice_answer(
    *,
    user: User,
    session_id: int,
    question_id: int,
    selected_option_ids: Iterable[int],
    time_spent_sec: int = 0,
    answered_at: datetime | None = None,
) -> AnswerFeedback:
    """Grades and records one answer, exactly once per question and session.

    While an exam of the candidate that still takes answers holds the question, the answer is
    refused (:class:`QuestionInOpenExam`, 409) before it is graded: practice must not reveal
    the key of a question of a mock in progress (the ``questions.held_out`` port, checked in
    the answer's one read).

    The session row is locked first, so concurrent answers to one session are serialised: none
    is lost and none is recorded twice (the attempt's unique constraint decides a race the lock
    cannot see, see :data:`~apps.practice.statements.WRITE_ANSWER`). The attempt, the session's
    counters, the user's review card for the question and the learning record (via
    ``publish_answers``; it also keeps the questions' anonymous statistics) change in this one
    transaction, in a fixed number of statements whatever the history's size: one read, one
    write of the practice rows, and the learning record's one (two the first time this process
    records an answer of the user, see ``apps.analytics.services.record_answers``).

    The practice statements are written out (apps/practice/statements.py): answering is the
    hottest write, and the ORM spent longer building its statements than PostgreSQL spent
    running them.

    ``percent_correct_others`` is how many earlier answers to the question (by anyone) were
    right, before this one; ``None`` when nobody has answered it yet."""
    if time_spent_sec < 0:
        raise ValidationFailed(fields={"time_spent_sec": ["Must not be negative."]})
    # The key would be revealed now, whatever moment the answer is recorded at.
    revealed_at = timezone.now()
    now = answered_at or revealed_at
    found = _answer_context(
        user_id=user.pk, session_id=session_id, question_id=question_id, at=revealed_at
    )
    if found is None:
        raise SessionNotFound()
    if found.completed_at is not None:
        raise SessionCompleted()
    if question_id not in found.question_ids:
        raise QuestionNotInSession(fields={"question_id": ["Not a question of this session."]})
    if found.held_out:
        # Before anything about the question is looked at: no grading, no key, no record.
        raise QuestionInOpenExam()
    question = found.question()
    if question is None:
        raise QuestionUnavailable()
    if found.already_answered:
        raise AlreadyAnswered()
    selected = validate_selection(
        question_type=question.type,
        option_ids=frozenset(question.option_ids),
        selected=list(selected_option_ids),
    )

    result = grade(correct_option_ids=question.correct_option_ids, selected_option_ids=selected)
    counted = min(time_spent_sec, max_counted_time_sec())
    category_id = question.category_id
    scheduler = scheduler_for(
        desired_retention=found.desired_retention, parameters=found.scheduler_parameters
    )
    reviewed = review(
        state=found.card_state or None,
        card_id=question_id,
        is_correct=result.is_correct,
        at=now,
        scheduler=scheduler,
    )
    written = _write_answer(
        user_id=user.pk,
        session_id=session_id,
        question_id=question_id,
        category_id=category_id,
        selected=selected,
        is_correct=result.is_correct,
        question_version=question.version,
        time_spent_sec=time_spent_sec,
        counted_time_sec=counted,
        at=now,
        # The row is locked, so the category list computed here cannot race.
        category_ids=(
            found.category_ids
            if category_id in found.category_ids
            else [*found.category_ids, category_id]
        ),
        reviewed=reviewed,
        card_reps=found.card_reps,
    )
    if (
        written.attempt_id is None
        or written.session_answered is None
        or written.session_correct is None
    ):
        raise AlreadyAnswered()
    if not written.card_reviewed:
        # The card changed since it was read (a first answer to the question at the same
        # moment in another of the user's sessions): review it again under its row lock.
        schedule_review(
            user_id=user.pk,
            question_id=question_id,
            is_correct=result.is_correct,
            at=now,
            desired_retention=found.desired_retention,
            parameters=found.scheduler_parameters,
        )
    publish_answers(
        answers=[
            AnsweredQuestion(
                user_id=user.pk,
                question_id=question_id,
                category_id=category_id,
                is_correct=result.is_correct,
                time_spent_sec=time_spent_sec,
                answered_at=now,
                source="practice",
                source_id=session_id,
                question_version=question.version,
            )
        ]
    )
    return AnswerFeedback(
        attempt_id=written.attempt_id,
        is_correct=result.is_correct,
        correct_option_ids=result.correct_option_ids,
        explanation=question.explanation if found.include_explanations else None,
        percent_correct_others=score_percent(
            correct=question.times_correct, answered=question.times_answered
        ),
        session_answered=written.session_answered,
        session_correct=written.session_correct,
        session_question_count=len(found.question_ids),
    )


def _answer_context(
    *, user_id: int, session_id: int, question_id: int, at: datetime
) -> AnswerContext | None:
    """The user's session, row-locked until the end of the transaction, with what answering
    the question needs (:func:`~apps.practice.statements.answer_context`; whether an exam of
    the user holds the question is judged at ``at``); ``None`` when the session is not the
    user's."""
    statement, params = statements.answer_context(
        user_id=user_id, session_id=session_id, question_id=question_id, at=at
    )
    return sql.fetch_one(statement, params, into=AnswerContext)


def _write_answer(
    *,
    user_id: int,
    session_id: int,
    question_id: int,
    category_id: int,
    selected: list[int],
    is_correct: bool,
    question_version: int,
    time_spent_sec: int,
    counted_time_sec: int,
    at: datetime,
    category_ids: list[int],
    reviewed: Review,
    card_reps: int | None,
) -> WrittenAnswer:
    """Inserts the attempt, adds it to the session's counters and stores the reviewed card, in
    one statement (:data:`~apps.practice.statements.WRITE_ANSWER`)."""
    written = sql.fetch_one(
        statements.WRITE_ANSWER,
        {
            "user_id": user_id,
            "session_id": session_id,
            "question_id": question_id,
            "category_id": category_id,
            "selected_option_ids": json.dumps(selected),
            "is_correct": is_correct,
            "correct": int(is_correct),
            "question_version": question_version,
            "time_spent_sec": time_spent_sec,
            "counted_time_sec": counted_time_sec,
            "at": at,
            "category_ids": json.dumps(category_ids),
            "card_state": json.dumps(reviewed.state),
            "card_due": reviewed.due,
            "card_last_review_at": reviewed.last_review_at,
            "card_lapsed": int(reviewed.lapsed),
            "card_reps": -1 if card_reps is None else card_reps,
        },
        into=WrittenAnswer,
    )
    assert written is not None  # nosec B101 # a statement of scalar subqueries gives one row
    return written


def schedule_review(
    *,
    user_id: int,
    question_id: int,
    is_correct: bool,
    at: datetime,
    desired_retention: float | None = None,
    parameters: list[float] | None = None,
) -> None:
    """Reviews the user's card for the question (creating it on the first answer) under its
    row lock: right is FSRS's Good, wrong is Again, at the user's ``desired_retention`` with
    their fitted weights ``parameters`` (the defaults for ``None``). Call it inside the
    answering transaction.

    Answering reviews the card it read without a lock (compare-and-set on ``reps``) and comes
    here only when that lost a race, so concurrent answers each count one review."""
    card = (
        ReviewCard.objects.select_for_update()
        .filter(user_id=user_id, question_id=question_id)
        .only("id", "state", "reps", "lapses")
        .first()
    )
    reviewed = review(
        state=card.state if card else None,
        card_id=question_id,
        is_correct=is_correct,
        at=at,
        scheduler=scheduler_for(desired_retention=desired_retention, parameters=parameters),
    )
    if card is None:
        ReviewCard.objects.bulk_create(
            [
                ReviewCard(
                    user_id=user_id,
                    question_id=question_id,
                    state=reviewed.state,
                    due=reviewed.due,
                    last_review_at=reviewed.last_review_at,
                    reps=1,
                    lapses=0,
                    created_at=at,
                )
            ],
            update_conflicts=True,
            unique_fields=["user", "question"],
            update_fields=["state", "due", "last_review_at"],
        )
        return
    ReviewCard.objects.filter(pk=card.pk).update(
        state=reviewed.state,
        due=reviewed.due,
        last_review_at=reviewed.last_review_at,
        reps=card.reps + 1,
        lapses=card.lapses + int(reviewed.lapsed),
    )
