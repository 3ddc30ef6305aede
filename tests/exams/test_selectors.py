from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from apps.exams.selectors import last_exam_summary
from apps.exams.services import (
    AnswerInput,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
)
from tests.exams.factories import blueprint_template, correct_answers, make_bank

pytestmark = pytest.mark.django_db


def test_last_exam_summary_is_none_without_a_submitted_exam(
    user, template, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert last_exam_summary(user_id=user.id) is None
    start_exam_session(user=user, template_id=template.id)
    assert last_exam_summary(user_id=user.id) is None


def test_last_exam_summary_is_the_latest_submission_in_one_query(
    user, other_user, django_assert_num_queries
):
    (category,) = make_bank(categories=1, per_category=4)
    older = blueprint_template({category: 4}, name="Exam A, Paper 1", duration_minutes=180)
    newer = blueprint_template({category: 4}, name="Exam A, Paper 2", duration_minutes=120)
    with time_machine.travel("2030-05-01T08:00:00+00:00", tick=False) as clock:
        first = start_exam_session(user=user, template_id=older.id).session
        clock.shift(timedelta(minutes=90))
        submit_exam_session(session_id=first.id, user=user)
        clock.shift(timedelta(minutes=10))
        second = start_exam_session(user=user, template_id=newer.id).session
        keys = correct_answers(second)
        q = second.question_ids
        save_exam_answers(
            user=user,
            session_id=second.id,
            answers=[
                AnswerInput(q[0], keys[q[0]]),
                AnswerInput(q[1], keys[q[1]]),
                AnswerInput(q[2], []),
            ],
        )
        clock.shift(timedelta(minutes=64, seconds=40))
        submit_exam_session(session_id=second.id, user=user)
        theirs = start_exam_session(user=other_user, template_id=older.id).session
        submit_exam_session(session_id=theirs.id, user=other_user)

    with django_assert_num_queries(1):
        summary = last_exam_summary(user_id=user.id)
    assert summary == {
        "submitted_at": second.started_at + timedelta(minutes=64, seconds=40),
        "exam": "Exam A, Paper 2",
        "score_percent": 50,
        "time_spent_min": 65,
        "answered": 2,
        "session_id": second.id,
    }
