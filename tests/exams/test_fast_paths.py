"""The exam paths written for speed give what the general ones gave.

The paper is rendered from plain rows (not the nested serializers over model instances), a
batch of answers is checked without the batch serializer when every value already has its exact
type, saved without reading the answers back, and scored from written-out statements. These
tests hold each fast path to the answer of the slow one it replaces.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from apps.exams.api.serializers import (
    ExamAttemptBatchInputSerializer,
    ExamQuestionSerializer,
    ExamSavedAttemptsSerializer,
    answer_input,
    plain_batch,
)
from apps.exams.models import ExamAnswer, ExamSession
from apps.exams.selectors import exam_paper
from apps.exams.selectors.papers import _question_data
from apps.exams.services import (
    AnswerInput,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
)
from apps.questions.grading import answer_keys
from apps.questions.models import AnswerOption
from apps.questions.selectors import (
    display_questions,
    paper_key,
    published_option_ids,
    question_categories,
    questions_for_display,
)
from apps.taxonomy.models import Category
from tests.exams.factories import blueprint_template, fixed_template, make_bank
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

SESSIONS = "/api/v1/exams/sessions"


def as_json(data: Any) -> Any:
    return json.loads(JSONRenderer().render(data))


# --- Rendering the paper ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_paper_is_what_the_nested_serializers_gave(user, user_client):
    first, second = make_bank(categories=2, per_category=3)
    multi = make_question(category=first, type="multi")
    multi.media.create(url="https://img.example.com/a.png", kind="image", alt_text="A", order=2)
    multi.media.create(url="https://img.example.com/b.mp4", kind="video", caption="B", order=1)
    template = blueprint_template({first: 4, second: 3})
    response = user_client.post(SESSIONS, {"template_id": template.id}, format="json")
    assert response.status_code == 201, response.content
    session = ExamSession.objects.select_related("template").get(id=response.json()["id"])
    assert multi.id in session.question_ids
    # An editor adds an option and removes another during the sitting.
    AnswerOption.objects.create(question=multi, text="Added later", order=0)
    AnswerOption.objects.filter(id=session.option_order[str(multi.id)][0]).delete()

    before = [
        _question_data(session, question, position)
        for position, question in enumerate(
            questions_for_display(question_ids=session.question_ids), start=1
        )
    ]
    expected = as_json(ExamQuestionSerializer(before, many=True).data)
    assert as_json(exam_paper(session=session)["questions"]) == expected
    shown = next(q for q in expected if q["id"] == multi.id)
    assert shown["options"][-1]["text"] == "Added later"
    assert [m["kind"] for m in shown["media"]] == ["video", "image"]
    assert user_client.get(f"{SESSIONS}/{session.id}").json()["questions"] == expected
    # At the start the paper was the same, less the editor's changes.
    assert [q["id"] for q in response.json()["questions"]] == [q["id"] for q in expected]


@pytest.mark.django_db
def test_display_leaves_out_questions_gone_from_the_bank_and_keeps_the_order():
    (category,) = make_bank(categories=1, per_category=3)
    ids = list(category.questions.values_list("id", flat=True))
    shown = display_questions(question_ids=[ids[2], 10**9, ids[0]])
    assert [q.id for q in shown] == [ids[2], ids[0]]
    assert display_questions(question_ids=[]) == []


@pytest.mark.django_db
def test_published_option_ids_are_the_published_questions_with_their_options_in_order():
    (category,) = make_bank(categories=1, per_category=2)
    draft = make_question(category=category, status="draft")
    hidden = make_question(category=CategoryFactory(is_active=False))
    bare = make_question(category=category)
    bare.options.all().delete()
    listed = [*category.questions.values_list("id", flat=True), hidden.id]
    found = published_option_ids(question_ids=listed)
    assert set(found) == set(listed) - {draft.id, hidden.id}
    assert found[bare.id] == []
    for question_id, options in found.items():
        expected = AnswerOption.objects.filter(question_id=question_id).order_by("order", "id")
        assert options == list(expected.values_list("id", flat=True))


@pytest.mark.django_db
def test_a_fixed_template_starts_from_one_read_of_the_bank(user, django_assert_max_num_queries):
    (category,) = make_bank(categories=1, per_category=30)
    template = fixed_template(list(category.questions.order_by("id")))
    # Template, open session, fixed list, published questions with their options; then the
    # savepoint, the session, the audit event and the release.
    with django_assert_max_num_queries(8):
        session = start_exam_session(user=user, template_id=template.id).session
    assert sorted(session.question_ids) == sorted(category.questions.values_list("id", flat=True))


# --- Scoring reads ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_paper_key_is_the_answer_key_with_categories_in_display_order():
    late = CategoryFactory(order=2, name="Anatomy")
    early = CategoryFactory(order=1, name="Zoology")
    same_order = CategoryFactory(order=2, name="Biology")
    questions = [
        make_question(category=late, type="multi"),
        make_question(category=early),
        make_question(category=same_order),
        make_question(category=late),
    ]
    keyless = make_question(category=early)
    keyless.options.update(is_correct=False)
    ids = [q.id for q in [*questions, keyless]] + [10**9]
    key = paper_key(question_ids=ids)
    assert key.correct_option_ids == answer_keys(question_ids=ids[:-1])
    assert key.category_of == question_categories(question_ids=ids)
    expected = Category.objects.filter(id__in=key.category_of.values()).order_by("order", "name")
    assert [(c.id, c.name, c.slug) for c in key.categories] == [
        (c.id, c.name, c.slug) for c in expected
    ]
    assert [c.name for c in key.categories] == ["Zoology", "Anatomy", "Biology"]


@pytest.mark.django_db
def test_a_row_saved_after_the_cutoff_by_any_path_never_counts(user, template, learning_record):
    session = start_exam_session(user=user, template_id=template.id).session
    keys = answer_keys(question_ids=session.question_ids)
    first, late = session.question_ids[:2]
    save_exam_answers(user=user, session_id=session.id, answers=[AnswerInput(first, keys[first])])
    ExamAnswer.objects.create(
        session=session,
        question_id=late,
        selected_option_ids=keys[late],
        saved_at=session.expires_at + timedelta(hours=1),
    )
    result = submit_exam_session(session_id=session.id, user=user)
    assert (result.correct, result.answered) == (1, 1)
    assert dict(
        ExamAnswer.objects.filter(session=session).values_list("question_id", "is_correct")
    ) == {
        first: True,
        late: False,
    }
    (published,) = learning_record.for_session(session.id)
    assert [a.question_id for a in published] == [first]


# --- Saving a batch -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_mixing_fields_keeps_what_each_answer_left_out(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    q = session.question_ids
    options = {qid: session.option_order[str(qid)] for qid in q}
    save_exam_answers(
        user=user,
        session_id=session.id,
        answers=[AnswerInput(q[0], [options[q[0]][0]], 40, True), AnswerInput(q[1], [], 5, True)],
    )
    with CaptureQueriesContext(connection) as queries:
        saved = save_exam_answers(
            user=user,
            session_id=session.id,
            answers=[
                AnswerInput(q[1], flagged=False),
                AnswerInput(q[0], [options[q[0]][1]]),
                AnswerInput(q[2], time_spent_sec=7),
                AnswerInput(q[3], [options[q[3]][0]], 9, True),
            ],
        )
    stored = {
        a.question_id: (a.selected_option_ids, a.time_spent_sec, a.flagged)
        for a in ExamAnswer.objects.filter(session=session)
    }
    assert stored == {
        q[0]: ([options[q[0]][1]], 40, True),
        q[1]: ([], 5, False),
        q[2]: ([], 7, False),
        q[3]: ([options[q[3]][0]], 9, True),
    }
    # The answers come back as stored, in the order sent.
    assert [(s.question_id, s.selected_option_ids, s.time_spent_sec, s.flagged) for s in saved] == [
        (qid, *stored[qid]) for qid in (q[1], q[0], q[2], q[3])
    ]
    # Lock, then one upsert per combination of fields sent (four here).
    assert len([x for x in queries.captured_queries if "SAVEPOINT" not in x["sql"]]) == 5


@pytest.mark.django_db
def test_a_batch_save_answers_what_the_serializer_gave(user, user_client, template):
    paper = user_client.post(SESSIONS, {"template_id": template.id}, format="json").json()
    attempts = [
        {
            "question_id": q["id"],
            "selected_option_ids": [q["options"][0]["id"]],
            "time_spent_sec": 3,
        }
        for q in paper["questions"]
    ]
    attempts[1]["flagged"] = True
    response = user_client.post(
        f"{SESSIONS}/{paper['id']}/attempts", {"attempts": attempts}, format="json"
    )
    assert response.status_code == 200, response.content
    stored = {a.question_id: a for a in ExamAnswer.objects.filter(session_id=paper["id"])}
    expected = ExamSavedAttemptsSerializer(
        {"attempts": [stored[a["question_id"]] for a in attempts]}
    ).data
    assert response.json() == as_json(expected)
    # Sent as strings the same batch takes the serializer's path, and answers alike.
    for a in attempts:
        a["time_spent_sec"] = "4"
    again = user_client.post(
        f"{SESSIONS}/{paper['id']}/attempts", {"attempts": attempts}, format="json"
    )
    assert again.status_code == 200, again.content
    assert [a["time_spent_sec"] for a in again.json()["attempts"]] == [4] * len(attempts)


@pytest.mark.django_db
def test_a_badly_typed_batch_gets_the_serializers_errors(user, user_client, template):
    paper = user_client.post(SESSIONS, {"template_id": template.id}, format="json").json()
    qid = paper["questions"][0]["id"]
    response = user_client.post(
        f"{SESSIONS}/{paper['id']}/attempts",
        {"attempts": [{"question_id": qid}, {"question_id": qid, "flagged": None}]},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"attempts.1.flagged"}
    assert not ExamAnswer.objects.filter(session_id=paper["id"]).exists()


_ints = st.one_of(
    st.integers(min_value=-3, max_value=30),
    st.integers(min_value=2**53 - 1, max_value=2**70),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-5, max_value=5),
    st.text(alphabet="0123456789 .-a", max_size=4),
    st.none(),
)
_answer = st.dictionaries(
    st.sampled_from(["question_id", "selected_option_ids", "time_spent_sec", "flagged", "other"]),
    st.one_of(_ints, st.lists(_ints, max_size=22), st.booleans()),
)
_payload = st.one_of(
    st.fixed_dictionaries({"attempts": st.lists(_answer, max_size=4)}),
    st.fixed_dictionaries({"attempts": st.one_of(_ints, st.lists(_ints, max_size=2))}),
    st.just({"attempts": [{"question_id": 1}] * 501}),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(payload=_payload)
def test_the_plain_batch_check_accepts_only_what_the_serializer_accepts(payload):
    plain = plain_batch(payload)
    form = ExamAttemptBatchInputSerializer(data=payload)
    if plain is None:
        return
    assert form.is_valid(), (payload, form.errors)
    assert plain == [answer_input(a) for a in form.validated_data["attempts"]]


def test_the_plain_batch_check_takes_what_clients_send():
    payload = {
        "attempts": [
            {"question_id": 3, "selected_option_ids": [1, 2], "time_spent_sec": 0},
            {"question_id": 4, "flagged": False},
            {"question_id": 5, "selected_option_ids": []},
        ]
    }
    assert plain_batch(payload) == [
        AnswerInput(3, [1, 2], 0),
        AnswerInput(4, flagged=False),
        AnswerInput(5, []),
    ]
