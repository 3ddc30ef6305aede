"""Each written-out statement and compiled query of practice, run beside the ORM expression it
stands for on the same data: a model change that breaks one fails here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.core import sql
from apps.exams.services import start_exam_session, submit_exam_session
from apps.practice import statements
from apps.practice.models import PracticeAttempt, PracticeSession, ReviewCard
from apps.practice.selectors import LAST_ANSWERED_SESSION
from apps.practice.services import answering
from apps.practice.spaced_repetition import review
from apps.practice.statements import AnswerContext, QuestionToAnswer
from apps.questions.held_out import PARAM_PREFIX, held_out_questions
from apps.questions.models import AnswerOption, Question, QuestionStatus
from tests.exams.factories import fixed_template
from tests.practice.conftest import Bank, answer, correct_ids, start_session
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def _questions_of_every_kind(bank: Bank) -> dict[str, Question]:
    """A published question, a draft, a retired one, and a published one in an inactive
    category."""
    draft, retired = bank.anatomy_questions[4], bank.anatomy_questions[5]
    Question.objects.filter(pk=draft.pk).update(status=QuestionStatus.DRAFT)
    Question.objects.filter(pk=retired.pk).update(status=QuestionStatus.RETIRED)
    inactive = make_question(CategoryFactory(is_active=False), "multi")
    return {
        "published": bank.anatomy_questions[0],
        "published multi": bank.physiology_questions[0],
        "draft": draft,
        "retired": retired,
        "inactive category": inactive,
    }


def _orm_question(question_id: int) -> QuestionToAnswer | None:
    """What the answer's read stands for, read with the ORM."""
    question = Question.objects.published().filter(pk=question_id).first()
    if question is None:
        return None
    options = AnswerOption.objects.filter(question_id=question_id).order_by("id")
    return QuestionToAnswer(
        type=question.type,
        version=question.version,
        category_id=question.category_id,
        explanation=question.explanation,
        times_answered=question.times_answered,
        times_correct=question.times_correct,
        option_ids=[o.id for o in options],
        correct_option_ids=[o.id for o in options if o.is_correct],
    )


# --- The published question (a compiled Question.objects.published() queryset) --------------


def test_published_question_is_the_published_queryset(bank: Bank) -> None:
    Question.objects.filter(pk=bank.anatomy_questions[0].pk).update(
        times_answered=7, times_correct=3, version=4
    )
    kinds = _questions_of_every_kind(bank)
    for kind, question in kinds.items():
        compiled = statements.PUBLISHED_QUESTION.fetch(question_id=question.pk)
        orm = list(statements.PUBLISHED_QUESTION.queryset(question_id=question.pk))
        assert compiled == orm, kind
        is_published = Question.objects.published().filter(pk=question.pk).exists()
        assert len(compiled) == (1 if is_published else 0), kind
    row = statements.PUBLISHED_QUESTION.fetch_first(question_id=kinds["published"].pk)
    assert row is not None
    assert row["question_times_answered"] == 7
    assert row["question_version"] == 4
    assert row["correct_option_ids"] == correct_ids(kinds["published"])


def test_the_answer_context_embeds_the_compiled_published_queryset_and_the_held_out_query() -> None:
    text, params = statements.PUBLISHED_QUESTION.subquery(prefix="q")
    at = timezone.now()
    statement, given = statements.answer_context(user_id=1, session_id=2, question_id=3, at=at)
    assert f"({text}) q" in statement
    assert params.items() <= given.items()
    held = held_out_questions.get().holding(user_id=1, question_id=3, at=at)
    assert f"EXISTS ({held.sql}) AS held_out" in statement
    assert held.params.items() <= given.items()
    # The port's parameters never clash with the statement's own.
    assert all(name.startswith(PARAM_PREFIX) for name in held.params)
    assert not any(name.startswith(PARAM_PREFIX) for name in given.keys() - held.params.keys())
    # Built once: the same text for every call.
    again, _ = statements.answer_context(user_id=4, session_id=5, question_id=6, at=at)
    assert again is statement


# --- The answer's read ------------------------------------------------------------------------


def _context(user: User, session: PracticeSession, question_id: int) -> AnswerContext | None:
    statement, params = statements.answer_context(
        user_id=user.pk, session_id=session.pk, question_id=question_id, at=timezone.now()
    )
    return sql.fetch_one(statement, params, into=AnswerContext)


def _assert_context_is_the_orm(
    found: AnswerContext | None, user: User, session: PracticeSession, question_id: int
) -> None:
    assert found is not None
    row = PracticeSession.objects.get(pk=session.pk)
    assert found.question_ids == row.question_ids
    assert found.config == row.config
    assert found.include_explanations == row.include_explanations
    assert found.category_ids == row.category_ids
    assert found.completed_at == row.completed_at
    assert (
        found.already_answered
        == PracticeAttempt.objects.filter(session=session, question_id=question_id).exists()
    )
    assert found.question() == _orm_question(question_id)
    assert found.held_out == (
        question_id in held_out_questions.get().question_ids(user_id=user.pk, at=timezone.now())
    )
    card = ReviewCard.objects.filter(user=user, question_id=question_id).first()
    assert found.card_state == (card.state if card else None)
    assert found.card_reps == (card.reps if card else None)


def test_answer_context_is_what_the_orm_reads(user: User, bank: Bank) -> None:
    kinds = _questions_of_every_kind(bank)
    ids = [q.pk for q in kinds.values()]
    session = PracticeSession.objects.create(
        user=user,
        seed=1,
        config={"include_explanations": False, "mode": "all"},
        question_ids=ids,
        requested_count=len(ids),
    )
    for kind, question in kinds.items():
        found = _context(user, session, question.pk)
        _assert_context_is_the_orm(found, user, session, question.pk)
        assert found is not None
        assert (found.question() is None) == (kind not in ("published", "published multi"))
    # Answered (with a card, the counters and the category list moved), then completed.
    published = kinds["published"].pk
    answer(user, session, published, right=True)
    _assert_context_is_the_orm(_context(user, session, published), user, session, published)
    PracticeSession.objects.filter(pk=session.pk).update(completed_at=timezone.now())
    _assert_context_is_the_orm(_context(user, session, published), user, session, published)


def test_answer_context_holds_out_what_the_port_holds_out(
    user: User, other_user: User, bank: Bank
) -> None:
    """The embedded query and the draws' question ids agree, for the user's open exam, a
    submitted one, and somebody else's."""
    questions = bank.all_questions
    session = PracticeSession.objects.create(
        user=user, seed=1, question_ids=[q.pk for q in questions], requested_count=10
    )
    start_exam_session(user=other_user, template_id=fixed_template(questions[:6]).id)
    submitted = start_exam_session(user=user, template_id=fixed_template(questions[6:8]).id)
    submit_exam_session(session_id=submitted.session.pk, user=user)
    start_exam_session(user=user, template_id=fixed_template(questions[2:4]).id)
    held = set()
    for question in questions:
        found = _context(user, session, question.pk)
        assert found is not None
        if found.held_out:
            held.add(question.pk)
    assert held == {q.pk for q in questions[2:4]}
    for question in questions:
        _assert_context_is_the_orm(_context(user, session, question.pk), user, session, question.pk)


def test_answer_context_of_another_users_session_is_none(
    user: User, other_user: User, bank: Bank
) -> None:
    session = start_session(user, count=2)
    assert _context(other_user, session, session.question_ids[0]) is None
    assert PracticeSession.objects.filter(user=other_user, pk=session.pk).first() is None


# --- The answer's write -----------------------------------------------------------------------


def _write(
    user: User,
    session: PracticeSession,
    question: Question,
    *,
    right: bool,
    card_reps: int | None,
    at_offset: timedelta = timedelta(),
) -> Any:
    at = timezone.now() + at_offset
    card = ReviewCard.objects.filter(user=user, question=question).first()
    reviewed = review(
        state=card.state if card else None, card_id=question.pk, is_correct=right, at=at
    )
    selected = correct_ids(question)
    return (
        answering._write_answer(
            user_id=user.pk,
            session_id=session.pk,
            question_id=question.pk,
            category_id=question.category_id,
            selected=selected,
            is_correct=right,
            question_version=question.version,
            time_spent_sec=30,
            counted_time_sec=20,
            at=at,
            category_ids=[question.category_id],
            reviewed=reviewed,
            card_reps=card_reps,
        ),
        at,
        reviewed,
        selected,
    )


def test_answer_write_stores_what_the_orm_reads_back(user: User, bank: Bank) -> None:
    question = bank.anatomy_questions[0]
    session = PracticeSession.objects.create(
        user=user, seed=1, question_ids=[question.pk], requested_count=1
    )
    written, at, reviewed, selected = _write(user, session, question, right=True, card_reps=None)

    attempt = PracticeAttempt.objects.get(session=session, question=question)
    assert written.attempt_id == attempt.pk
    assert (attempt.category_id, attempt.selected_option_ids, attempt.is_correct) == (
        question.category_id,
        selected,
        True,
    )
    assert (attempt.question_version, attempt.time_spent_sec, attempt.counted_time_sec) == (
        question.version,
        30,
        20,
    )
    assert attempt.answered_at == at
    row = PracticeSession.objects.get(pk=session.pk)
    assert (written.session_answered, written.session_correct) == (row.answered, row.correct)
    assert (row.answered, row.correct, row.time_spent_sec) == (1, 1, 20)
    assert row.category_ids == [question.category_id]
    assert row.last_activity_at == at
    card = ReviewCard.objects.get(user=user, question=question)
    assert written.card_reviewed is True
    assert (card.state, card.due, card.last_review_at) == (
        reviewed.state,
        reviewed.due,
        reviewed.last_review_at,
    )
    assert (card.reps, card.lapses, card.created_at) == (1, 0, at)


def test_answer_write_to_an_answered_question_writes_nothing(user: User, bank: Bank) -> None:
    question = bank.anatomy_questions[0]
    session = PracticeSession.objects.create(
        user=user, seed=1, question_ids=[question.pk], requested_count=1
    )
    _write(user, session, question, right=True, card_reps=None)
    before = (
        list(PracticeAttempt.objects.values()),
        list(PracticeSession.objects.values()),
        list(ReviewCard.objects.values()),
    )
    written, *_ = _write(user, session, question, right=False, card_reps=1)
    assert written == statements.WrittenAnswer(
        attempt_id=None, session_answered=None, session_correct=None, card_reviewed=False
    )
    after = (
        list(PracticeAttempt.objects.values()),
        list(PracticeSession.objects.values()),
        list(ReviewCard.objects.values()),
    )
    assert after == before


def test_answer_write_reviews_the_card_only_as_read(user: User, bank: Bank) -> None:
    """The card is a compare-and-set on ``reps``: written when still as read, left alone (and
    ``card_reviewed`` false) when it changed in between."""
    question = bank.anatomy_questions[0]
    sessions = [
        PracticeSession.objects.create(
            user=user, seed=i, question_ids=[question.pk], requested_count=1
        )
        for i in range(3)
    ]
    _write(user, sessions[0], question, right=True, card_reps=None)
    written, _at, reviewed, _ = _write(
        user, sessions[1], question, right=False, card_reps=1, at_offset=timedelta(days=5)
    )
    card = ReviewCard.objects.get(user=user, question=question)
    assert written.card_reviewed is True
    assert (card.state, card.due, card.reps) == (reviewed.state, reviewed.due, 2)
    assert card.lapses == int(reviewed.lapsed)

    as_reviewed = list(ReviewCard.objects.values())
    stale, *_ = _write(user, sessions[2], question, right=True, card_reps=1)
    assert stale.attempt_id is not None
    assert stale.card_reviewed is False
    assert list(ReviewCard.objects.values()) == as_reviewed


# --- The last answered session (a compiled queryset) ----------------------------------------


def test_last_answered_session_is_its_queryset(user: User, other_user: User, bank: Bank) -> None:
    assert LAST_ANSWERED_SESSION.fetch(user_id=user.pk) == []
    older = start_session(user, count=3)
    newer = start_session(user, count=3)
    start_session(user, count=2)  # never answered: not a candidate
    answer(user, newer, newer.question_ids[0], right=True)
    answer(user, older, older.question_ids[0], right=False)
    answer(user, older, older.question_ids[1], right=True)
    for who in (user, other_user):
        compiled = LAST_ANSWERED_SESSION.fetch(user_id=who.pk)
        assert compiled == list(LAST_ANSWERED_SESSION.queryset(user_id=who.pk))
    found = LAST_ANSWERED_SESSION.fetch_first(user_id=user.pk)
    assert found is not None
    orm = (
        PracticeSession.objects.filter(user=user, answered__gt=0)
        .order_by("-last_activity_at", "-id")
        .first()
    )
    assert orm is not None
    assert found == {
        "id": orm.pk,
        "answered": orm.answered,
        "correct": orm.correct,
        "category_ids": orm.category_ids,
        "last_activity_at": orm.last_activity_at,
        "created_at": orm.created_at,
    }
    assert found["id"] == older.pk
