"""Scoring costs a fixed number of statements, however many questions the paper has."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.exams.models import ExamAnswer
from apps.exams.services import (
    AnswerInput,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
)
from apps.questions.learning import answer_recorder
from tests.accounts.factories import UserFactory
from tests.exams.factories import blueprint_template, correct_answers, make_bank, wrong_option

pytestmark = pytest.mark.django_db


@contextmanager
def only_receiver(receiver: Any) -> Iterator[None]:
    """Measures exams alone: the learning record's own recorder is set aside for the block."""
    with answer_recorder.override(receiver):
        yield


def submit_statements(questions: int, *, isolated: bool = True) -> tuple[int, int]:
    """(statements to score a fully answered session of ``questions`` questions, answers
    published). ``isolated=False`` keeps the learning record's recorder behind the count."""
    first, second = make_bank(categories=2, per_category=questions // 2)
    template = blueprint_template({first: questions // 2, second: questions // 2})
    user = UserFactory()
    session = start_exam_session(user=user, template_id=template.id).session
    keys = correct_answers(session)
    save_exam_answers(
        user=user,
        session_id=session.id,
        answers=[
            AnswerInput(q, keys[q] if i % 3 else [wrong_option(session, q)])
            for i, q in enumerate(session.question_ids)
        ],
    )
    published: list[Any] = []

    def receiver(*, answers: Any) -> None:
        published.extend(answers)

    with ExitStack() as stack:
        if isolated:
            stack.enter_context(only_receiver(receiver))
        else:
            real = answer_recorder.get()

            def counted(*, answers: Any) -> object:
                receiver(answers=answers)
                return real(answers=answers)

            stack.enter_context(answer_recorder.override(counted))
        queries = stack.enter_context(CaptureQueriesContext(connection))
        result = submit_exam_session(session_id=session.id, user=user)
    assert result.answered == questions
    assert result.correct == sum(1 for i in range(questions) if i % 3)
    assert ExamAnswer.objects.filter(session=session, is_correct__isnull=True).count() == 0
    return len(queries.captured_queries), len(published)


def test_submit_statement_count_does_not_grow_with_the_paper():
    small, small_published = submit_statements(10)
    large, large_published = submit_statements(60)
    assert (small_published, large_published) == (10, 60)
    assert small == large
    # Savepoint, lock, answers, key and categories (one read), grading, result, audit, release.
    assert small <= 8


def test_a_full_paper_of_180_is_scored_in_the_same_statements():
    baseline, _ = submit_statements(10)
    full, published = submit_statements(180)
    assert published == 180
    assert full == baseline


def test_with_the_learning_record_the_whole_submission_still_does_not_grow():
    small, _ = submit_statements(10, isolated=False)
    full, published = submit_statements(180, isolated=False)
    assert published == 180
    assert full == small


def test_saving_a_batch_costs_the_same_for_any_size():
    def statements(size: int) -> int:
        (category,) = make_bank(categories=1, per_category=size)
        template = blueprint_template({category: size})
        user = UserFactory()
        session = start_exam_session(user=user, template_id=template.id).session
        answers = [
            AnswerInput(q, [session.option_order[str(q)][0]], 5) for q in session.question_ids
        ]
        with CaptureQueriesContext(connection) as queries:
            save_exam_answers(user=user, session_id=session.id, answers=answers)
        assert ExamAnswer.objects.filter(session=session).count() == size
        return len(queries.captured_queries)

    assert statements(5) == statements(50)
