"""While a candidate's timed exam takes answers, practice never reveals the key of a question
in it: no practice draw (whatever the mode) contains it, and answering it in a practice session
that already holds it is refused (409 ``question_in_open_exam``) without grading or recording
anything. Once the exam is submitted, or past its deadline plus grace, the question is back.

Practice does not import exams: it asks through the ``questions.held_out`` port, which exams
provides. These tests start real exams through exams' own service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fsrs import Card

from apps.accounts.models import User
from apps.exams.models import ExamSession
from apps.exams.services import start_exam_session, submit_exam_session
from apps.practice import services
from apps.practice.exceptions import NoQuestionsAvailable, QuestionInOpenExam
from apps.practice.models import PracticeAttempt, PracticeSession, QuestionFlag, ReviewCard
from apps.questions.learning import answer_recorder
from apps.questions.models import Question
from tests.conftest import client_for
from tests.exams.factories import fixed_template
from tests.practice.conftest import Bank, answer, correct_ids, start_session, wrong_ids

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
EXAM_MINUTES = 30


def open_exam(user: User, questions: list[Question]) -> ExamSession:
    """A timed exam of exactly ``questions`` started by ``user`` now (30 minutes)."""
    template = fixed_template(questions, duration_minutes=EXAM_MINUTES)
    return start_exam_session(user=user, template_id=template.id).session


def in_exam(bank: Bank) -> list[Question]:
    """The questions the exam of these tests holds: two of each category."""
    return [*bank.anatomy_questions[:2], *bank.physiology_questions[:2]]


def ids(questions: list[Question]) -> set[int]:
    return {q.pk for q in questions}


# --- Draws ------------------------------------------------------------------------------------


def _make_every_question_eligible(user: User, bank: Bank) -> None:
    """Before the exam: every question answered wrongly once, flagged, and its card due, so
    that every mode would draw the whole bank."""
    for question in bank.all_questions:
        QuestionFlag.objects.create(user=user, question=question)
    earlier = start_session(user, count=100)
    for qid in earlier.question_ids:
        answer(user, earlier, qid, right=False)
    ReviewCard.objects.filter(user=user).update(due=T0 - timedelta(days=1))


@pytest.mark.parametrize("mode", ["all", "incorrect", "flagged", "due"])
def test_no_practice_mode_draws_a_question_of_the_open_exam(
    user: User, bank: Bank, mode: str
) -> None:
    with time_machine.travel(T0 - timedelta(days=2), tick=False):
        _make_every_question_eligible(user, bank)
    with time_machine.travel(T0, tick=False):
        exam = open_exam(user, in_exam(bank))
        session = start_session(user, count=100, mode=mode)
    assert set(session.question_ids) == ids(bank.all_questions) - set(exam.question_ids)
    assert session.available_count == len(bank.all_questions) - len(exam.question_ids)


def test_unanswered_and_category_draws_leave_the_exam_out_too(user: User, bank: Bank) -> None:
    with time_machine.travel(T0, tick=False):
        exam = open_exam(user, in_exam(bank))
        unanswered = start_session(user, count=100, mode="unanswered")
        anatomy = start_session(user, count=100, category_slugs=["anatomy-embryology"])
    held = set(exam.question_ids)
    assert set(unanswered.question_ids) == ids(bank.all_questions) - held
    assert set(anatomy.question_ids) == ids(bank.anatomy_questions) - held


def test_a_draw_with_only_exam_questions_left_is_the_no_questions_conflict(
    user: User, bank: Bank
) -> None:
    """Both questions of the subcategory are in the exam: nothing is left to practise."""
    with time_machine.travel(T0, tick=False):
        open_exam(user, in_exam(bank))
        response = client_for(user).post(
            "/api/v1/practice/sessions",
            {"subcategories": ["upper-limb"], "question_count": 5},
            format="json",
        )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "no_questions"


def test_only_the_candidates_own_exam_while_it_takes_answers_holds_questions_out(
    user: User, other_user: User, bank: Bank
) -> None:
    everything = ids(bank.all_questions)
    with time_machine.travel(T0, tick=False):
        open_exam(other_user, in_exam(bank))  # somebody else's exam
        assert set(start_session(user, count=100).question_ids) == everything
        exam = open_exam(user, in_exam(bank))
        assert set(start_session(user, count=100).question_ids) == everything - set(
            exam.question_ids
        )
    deadline = exam.expires_at
    grace = timedelta(seconds=settings.EXAM_GRACE_SECONDS)
    with time_machine.travel(deadline + grace, tick=False):  # the last moment it takes answers
        assert set(start_session(user, count=100).question_ids) == everything - set(
            exam.question_ids
        )
    with time_machine.travel(deadline + grace + timedelta(seconds=1), tick=False):
        # Past deadline and grace, before any sweep has submitted it: it takes no answers.
        assert ExamSession.objects.get(pk=exam.pk).is_open
        assert set(start_session(user, count=100).question_ids) == everything
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        submit_exam_session(session_id=exam.pk, user=user)
        assert set(start_session(user, count=100).question_ids) == everything


# --- Answers ----------------------------------------------------------------------------------


def _practice_holding(user: User, questions: list[Question]) -> PracticeSession:
    """A practice session drawn before any exam, holding exactly ``questions``."""
    session = start_session(user, count=len(questions))
    session.question_ids = [q.pk for q in questions]
    session.save(update_fields=["question_ids"])
    return session


def _nothing_recorded(user: User, session: PracticeSession) -> None:
    assert not PracticeAttempt.objects.filter(session=session).exists()
    row = PracticeSession.objects.get(pk=session.pk)
    assert (row.answered, row.correct, row.time_spent_sec, row.category_ids) == (0, 0, 0, [])
    assert not ReviewCard.objects.filter(user=user).exists()


def test_answering_a_question_of_the_open_exam_is_refused_and_reveals_nothing(
    user: User, bank: Bank
) -> None:
    question = bank.physiology_questions[0]
    with time_machine.travel(T0, tick=False):
        session = _practice_holding(user, [question, bank.physiology_questions[3]])
        open_exam(user, in_exam(bank))
        published: list[Any] = []
        with answer_recorder.override(lambda *, answers: published.extend(answers)):
            response = client_for(user).post(
                f"/api/v1/practice/sessions/{session.pk}/attempts",
                {"question_id": question.pk, "selected_option_ids": correct_ids(question)},
                format="json",
            )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "question_in_open_exam"
    assert body["message"]
    assert set(body) <= {"code", "message", "fields"}
    text = response.content.decode()
    assert "correct" not in text
    assert question.explanation not in text
    _nothing_recorded(user, session)
    assert published == []


def test_the_refusal_comes_before_the_selection_is_looked_at(user: User, bank: Bank) -> None:
    """A wrong, a foreign or an empty selection gets the same 409: nothing about the question
    is graded or validated while the exam is open."""
    question = bank.anatomy_questions[0]
    other = bank.physiology_questions[3]
    with time_machine.travel(T0, tick=False):
        session = _practice_holding(user, [question])
        open_exam(user, in_exam(bank))
        for selected in (correct_ids(question), wrong_ids(question), correct_ids(other), []):
            with pytest.raises(QuestionInOpenExam):
                services.record_practice_answer(
                    user=user,
                    session_id=session.pk,
                    question_id=question.pk,
                    selected_option_ids=selected,
                )
    _nothing_recorded(user, session)


def test_the_other_questions_of_the_session_are_answered_as_usual(user: User, bank: Bank) -> None:
    outside = bank.physiology_questions[3]
    with time_machine.travel(T0, tick=False):
        session = _practice_holding(user, [bank.anatomy_questions[0], outside])
        open_exam(user, in_exam(bank))
        feedback = answer(user, session, outside.pk, right=True)
    assert feedback.is_correct is True
    assert feedback.correct_option_ids == correct_ids(outside)


def test_the_question_is_answerable_again_once_the_exam_is_over(
    user: User, other_user: User, bank: Bank
) -> None:
    first, other = bank.anatomy_questions[0], bank.anatomy_questions[2]
    with time_machine.travel(T0, tick=False):
        session = _practice_holding(user, [first, other])
        theirs = _practice_holding(other_user, [first])
        exam = open_exam(user, in_exam(bank))
        # Somebody else's exam holds nothing back from this candidate, and the reverse.
        assert answer(other_user, theirs, first.pk, right=True).is_correct
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        # A second exam, submitted early: its question is back at once.
        short = open_exam(user, [other])
        with pytest.raises(QuestionInOpenExam):
            answer(user, session, other.pk, right=True)
        submit_exam_session(session_id=short.pk, user=user)
        assert answer(user, session, other.pk, right=False).is_correct is False
    grace = timedelta(seconds=settings.EXAM_GRACE_SECONDS)
    with (
        time_machine.travel(exam.expires_at + grace, tick=False),
        pytest.raises(QuestionInOpenExam),
    ):
        answer(user, session, first.pk, right=True)
    with time_machine.travel(exam.expires_at + grace + timedelta(seconds=1), tick=False):
        # Past deadline and grace the exam takes no answer, submitted or not yet.
        assert ExamSession.objects.get(pk=exam.pk).is_open
        assert answer(user, session, first.pk, right=True).is_correct


def test_the_check_is_part_of_the_one_read_of_an_answer(user: User, bank: Bank) -> None:
    """Refused or not, the practice answer reads once (the session under its lock, with the
    question, the card and whether an open exam holds the question back)."""
    held, free = bank.anatomy_questions[0], bank.physiology_questions[3]
    held_choice, free_choice = correct_ids(held), correct_ids(free)
    with time_machine.travel(T0, tick=False):
        session = _practice_holding(user, [held, free])
        open_exam(user, in_exam(bank))
        with CaptureQueriesContext(connection) as refused, pytest.raises(QuestionInOpenExam):
            services.record_practice_answer(
                user=user,
                session_id=session.pk,
                question_id=held.pk,
                selected_option_ids=held_choice,
            )
        with CaptureQueriesContext(connection) as answered:
            services.record_practice_answer(
                user=user,
                session_id=session.pk,
                question_id=free.pk,
                selected_option_ids=free_choice,
            )
    reads = [q["sql"] for q in refused.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(reads) == 1, reads
    assert '"exams_examsession"' in reads[0]
    practice = [q["sql"] for q in answered.captured_queries if '"practice_' in q["sql"]]
    assert len(practice) == 2, practice


def test_cards_due_during_the_exam_stay_in_the_review_queue(user: User, bank: Bank) -> None:
    """Holding a question out of draws does not touch its card: it is due again (and drawn)
    once the exam is over."""
    question = bank.anatomy_questions[0]
    due = T0 - timedelta(hours=1)
    ReviewCard.objects.create(
        user=user,
        question=question,
        state=dict(Card(card_id=question.pk, due=due).to_dict()),
        due=due,
        reps=1,
    )
    with time_machine.travel(T0, tick=False):
        exam = open_exam(user, in_exam(bank))
        with pytest.raises(NoQuestionsAvailable):
            start_session(user, count=10, mode="due")
        submit_exam_session(session_id=exam.pk, user=user)
        assert start_session(user, count=10, mode="due").question_ids == [question.pk]
