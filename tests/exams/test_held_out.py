"""What exams answers through the ``questions.held_out`` port: the questions of a candidate's
exams that still take answers. "Still take answers" is the set twin of the save's own rule
(``is_open and not is_past_deadline``), at every moment around the deadline; the query practice
embeds gives what the draws' question ids give. Practice's side is tests/practice/
test_held_out.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apps.exams import statements
from apps.exams.models import ExamSession
from apps.exams.selectors import deadline_from, grace, is_past_deadline
from apps.exams.selectors.held_out import open_exam_questions
from apps.exams.services import start_exam_session, submit_exam_session
from apps.questions.held_out import held_out_questions
from apps.questions.models import Question
from tests.accounts.factories import UserFactory
from tests.exams.factories import fixed_template, make_bank

pytestmark = pytest.mark.django_db


def test_exams_provides_the_port() -> None:
    assert held_out_questions.implementations == (open_exam_questions,)


def _holds(user_id: int, question_id: int, at: datetime) -> bool:
    """The embedded query run on its own, as practice's answer read runs it."""
    held = open_exam_questions.holding(user_id=user_id, question_id=question_id, at=at)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS ({held.sql})", held.params)  # nosec B608
        row = cursor.fetchone()
    return bool(row[0])


def test_held_out_is_what_a_save_would_accept_at_every_moment(user, other_user) -> None:
    (category,) = make_bank(categories=1, per_category=6)
    questions = list(Question.objects.filter(category=category).order_by("id"))
    t0 = timezone.now().replace(microsecond=0)
    with time_machine.travel(t0, tick=False):
        exam = start_exam_session(
            user=user, template_id=fixed_template(questions[:3], duration_minutes=30).id
        ).session
        start_exam_session(user=other_user, template_id=fixed_template(questions[3:]).id)
        done = start_exam_session(user=user, template_id=fixed_template(questions[4:]).id)
        submit_exam_session(session_id=done.session.pk, user=user)
    end = exam.expires_at + grace()  # the last moment a save is accepted
    moments = [
        t0,
        exam.expires_at,
        end - timedelta(microseconds=1),
        end,
        end + timedelta(microseconds=1),
        end + timedelta(days=1),
    ]
    for at in moments:
        takes_answers = exam.is_open and not is_past_deadline(exam, now=at)
        expected = {q.pk for q in questions[:3]} if takes_answers else set()
        assert open_exam_questions.question_ids(user_id=user.pk, at=at) == expected, at
        for question in questions:
            assert _holds(user.pk, question.pk, at) == (question.pk in expected), (at, question)
        in_the_set = (
            ExamSession.objects.filter(pk=exam.pk)
            .taking_answers(deadline_from=deadline_from(at))
            .exists()
        )
        assert in_the_set == takes_answers, at
    assert open_exam_questions.question_ids(user_id=UserFactory().pk, at=t0) == set()


def test_the_compiled_holding_query_is_its_queryset(user, other_user) -> None:
    (category,) = make_bank(categories=1, per_category=4)
    questions = list(Question.objects.filter(category=category).order_by("id"))
    exam = start_exam_session(user=user, template_id=fixed_template(questions[:2]).id).session
    start_exam_session(user=other_user, template_id=fixed_template(questions[1:]).id)
    for who in (user, other_user):
        for question in questions:
            for at in (timezone.now(), exam.expires_at + timedelta(hours=1)):
                values = {
                    "user_id": who.pk,
                    "question_id": question.pk,
                    "deadline_from": deadline_from(at),
                }
                compiled = statements.HOLDING_QUESTION.fetch(**values)
                assert compiled == list(statements.HOLDING_QUESTION.queryset(**values))
                assert bool(compiled) == _holds(who.pk, question.pk, at)
