"""An exam answer is held to the same selection rule as a practice answer
(``apps.questions.grading.validate_selection``): one option for a single best answer question,
only the question's own options, at most ``MAX_SELECTED_OPTIONS``. Both the single save and the
batch save (its fast path and the serializer's path) apply it, without a statement per answer.
The property test that practice and exams accept exactly the same selections is in
tests/questions/test_grading_selection.py."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.exceptions import ValidationFailed
from apps.exams.models import ExamAnswer, ExamSession
from apps.exams.services import AnswerInput, save_exam_answers, start_exam_session
from apps.questions.grading import MAX_SELECTED_OPTIONS
from apps.questions.models import Question
from tests.exams.factories import blueprint_template, fixed_template, make_bank
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/exams/sessions"


@pytest.fixture
def paper(user) -> ExamSession:
    """An exam of two single best answer questions and one multiple response question."""
    (category,) = make_bank(categories=1, per_category=2, type="single")
    multi = make_question(category=category, type="multi")
    questions = [*Question.objects.filter(category=category).exclude(pk=multi.pk), multi]
    template = fixed_template(questions, shuffle_questions=False)
    return start_exam_session(user=user, template_id=template.id).session


def options(session: ExamSession, question_id: int) -> list[int]:
    return list(session.option_order[str(question_id)])


def singles_and_multi(session: ExamSession) -> tuple[int, int, int]:
    single_ids = set(
        Question.objects.filter(pk__in=session.question_ids, type="single").values_list(
            "pk", flat=True
        )
    )
    first, second = [q for q in session.question_ids if q in single_ids]
    (multi,) = [q for q in session.question_ids if q not in single_ids]
    return first, second, multi


def test_two_options_on_a_single_best_answer_question_are_refused(user, paper):
    single, _, _ = singles_and_multi(paper)
    with pytest.raises(ValidationFailed) as refused:
        save_exam_answers(
            user=user,
            session_id=paper.pk,
            answers=[AnswerInput(single, options(paper, single)[:2])],
            field_prefix="",
        )
    assert refused.value.fields == {
        "selected_option_ids": ["A single best answer question takes one option."]
    }
    assert not ExamAnswer.objects.exists()


def test_every_option_on_a_single_question_is_refused_through_the_api(user_client, user, paper):
    single, other_single, multi = singles_and_multi(paper)
    url = f"{SESSIONS}/{paper.pk}/attempts"
    one = user_client.post(
        url, {"question_id": single, "selected_option_ids": options(paper, single)}, format="json"
    )
    assert one.status_code == 400, one.content
    assert one.json()["code"] == "validation_error"
    assert one.json()["fields"] == {
        "selected_option_ids": ["A single best answer question takes one option."]
    }
    batch = {
        "attempts": [
            {"question_id": multi, "selected_option_ids": options(paper, multi)[:3]},
            {"question_id": other_single, "selected_option_ids": options(paper, other_single)},
        ]
    }
    for body in (batch, {"attempts": [{**a, "flagged": "true"} for a in batch["attempts"]]}):
        # The plain fast path, then (a string for a boolean) the serializer's path.
        response = user_client.post(url, body, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["fields"] == {
            "attempts.1.selected_option_ids": ["A single best answer question takes one option."]
        }
    assert not ExamAnswer.objects.exists()  # all or nothing


def test_a_repeated_option_is_one_option(user, paper):
    single, _, multi = singles_and_multi(paper)
    chosen = options(paper, single)[1]
    saved = save_exam_answers(
        user=user,
        session_id=paper.pk,
        answers=[
            AnswerInput(single, [chosen, chosen, chosen]),
            AnswerInput(multi, options(paper, multi)),  # every option of a multi: allowed
        ],
    )
    assert [s.selected_option_ids for s in saved] == [[chosen], sorted(options(paper, multi))]


def test_an_empty_selection_still_clears_the_answer(user, paper):
    single, _, _ = singles_and_multi(paper)
    save_exam_answers(
        user=user, session_id=paper.pk, answers=[AnswerInput(single, options(paper, single)[:1])]
    )
    save_exam_answers(user=user, session_id=paper.pk, answers=[AnswerInput(single, [])])
    assert ExamAnswer.objects.get(question_id=single).selected_option_ids == []


def test_too_many_options_are_refused_by_the_service_too(user, paper):
    _, _, multi = singles_and_multi(paper)
    mine = options(paper, multi)
    too_many = (mine * MAX_SELECTED_OPTIONS)[: MAX_SELECTED_OPTIONS + 1]
    with pytest.raises(ValidationFailed) as refused:
        save_exam_answers(
            user=user, session_id=paper.pk, answers=[AnswerInput(multi, too_many)], field_prefix=""
        )
    assert refused.value.fields == {"selected_option_ids": ["Too many options selected."]}


def test_a_foreign_option_is_named_as_practice_names_it(user, paper):
    single, other, _ = singles_and_multi(paper)
    foreign = options(paper, other)[0]
    with pytest.raises(ValidationFailed) as refused:
        save_exam_answers(
            user=user,
            session_id=paper.pk,
            answers=[AnswerInput(single, [foreign])],
            field_prefix="",
        )
    assert refused.value.fields == {
        "selected_option_ids": [f"Not an option of this question: {foreign}."]
    }


def test_the_rule_costs_no_statement_per_answer(user):
    """The question types come with the session's row lock: a batch of any size, singles
    and multis mixed, saves in the same statements as before the rule was shared."""

    def statements(size: int) -> int:
        (singles,) = make_bank(categories=1, per_category=size, type="single")
        (multis,) = make_bank(categories=1, per_category=size, type="multi")
        template = blueprint_template({singles: size, multis: size})
        session = start_exam_session(user=user, template_id=template.id).session
        multi = set(multis.questions.values_list("pk", flat=True))
        answers = [
            AnswerInput(q, options(session, q)[: 2 if q in multi else 1], 5)
            for q in session.question_ids
        ]
        with CaptureQueriesContext(connection) as queries:
            save_exam_answers(user=user, session_id=session.id, answers=answers)
        assert ExamAnswer.objects.filter(session=session).count() == 2 * size
        return len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]])

    # The session's lock (with the types), one upsert.
    assert statements(3) == statements(40) == 2
