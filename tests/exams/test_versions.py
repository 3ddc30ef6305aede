"""An exam answer keeps the version of the question it was graded on, and the review shows that
version's stem, options, key and explanation, not the question as an editor changed it since."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.analytics.models import AnswerFact
from apps.exams.models import ExamAnswer
from apps.questions.grading import answer_keys
from apps.questions.models import Question
from apps.questions.services import update_question
from apps.questions.services.versions import rekey_question
from tests.exams.factories import blueprint_template, fixed_template, make_bank
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/exams/sessions"


def sit(client: APIClient, template_id: int, answers: dict[int, list[int]]) -> dict[str, Any]:
    """Starts a session, saves ``answers`` ({question_id: option ids}), submits; the review."""
    started = client.post(SESSIONS, {"template_id": template_id}, format="json")
    assert started.status_code == 201, started.content
    sid = started.json()["id"]
    attempts = [{"question_id": q, "selected_option_ids": ids} for q, ids in answers.items()]
    saved = client.post(f"{SESSIONS}/{sid}/attempts", {"attempts": attempts}, format="json")
    assert saved.status_code == 200, saved.content
    assert client.post(f"{SESSIONS}/{sid}/submit").status_code == 200
    review = client.get(f"{SESSIONS}/{sid}/review")
    assert review.status_code == 200
    body: dict[str, Any] = review.json()
    return body


def by_question(review: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {a["question_id"]: a for a in review["attempts"]}


def key_of(question: Question) -> list[int]:
    return answer_keys(question_ids=[question.pk])[question.pk]


def new_key_spec(question: Question) -> list[dict[str, Any]]:
    """The question's options with the key moved to its last option."""
    options = list(question.options.order_by("order", "id"))
    return [
        {"id": o.pk, "text": o.text, "is_correct": i == len(options) - 1}
        for i, o in enumerate(options)
    ]


def test_the_review_shows_the_key_and_explanation_the_answer_was_graded_on(
    user_client: APIClient, user: Any, editor: Any
) -> None:
    answered, skipped = make_question(explanation="Old reasoning."), make_question()
    template = fixed_template([answered, skipped])
    old_key, old_skipped_key = key_of(answered), key_of(skipped)
    first = sit(user_client, template.pk, {answered.pk: old_key})

    stored = ExamAnswer.objects.get(question=answered)
    assert (stored.is_correct, stored.question_version) == (True, 1)
    assert AnswerFact.objects.get(user=user, source="exam").question_version == 1
    assert by_question(first)[answered.pk]["question_version"] == 1

    # The editor moves the key and rewrites the stem and explanation of both questions.
    for question in (answered, skipped):
        update_question(
            question=question,
            actor=editor,
            options=new_key_spec(question),
            explanation="New reasoning.",
            stem=f"Reworded stem of question {question.pk}?",
        )
    answered.refresh_from_db()
    assert answered.version == 2
    new_key = key_of(answered)
    assert new_key != old_key

    review = by_question(user_client.get(f"{SESSIONS}/{first['id']}/review").json())
    old = review[answered.pk]
    assert (old["question_version"], old["correct_option_ids"], old["explanation"]) == (
        1,
        old_key,
        "Old reasoning.",
    )
    assert old["is_correct"] is True
    assert old["stem"] == by_question(first)[answered.pk]["stem"] != answered.stem
    assert old["options"] == by_question(first)[answered.pk]["options"]
    # An unanswered question is shown as it was when the paper was scored.
    unanswered = review[skipped.pk]
    assert (unanswered["question_version"], unanswered["correct_option_ids"]) == (
        1,
        old_skipped_key,
    )
    assert unanswered["explanation"] != "New reasoning."

    # A new sitting is graded on, and shows, the new version.
    second = by_question(sit(user_client, template.pk, {answered.pk: new_key}))
    now = second[answered.pk]
    assert (now["question_version"], now["correct_option_ids"], now["explanation"]) == (
        2,
        new_key,
        "New reasoning.",
    )
    assert (now["is_correct"], now["stem"]) == (True, answered.stem)
    assert second[skipped.pk]["question_version"] == 2
    assert ExamAnswer.objects.filter(question=answered).order_by("id").last().question_version == 2  # type: ignore[union-attr]
    facts = AnswerFact.objects.filter(user=user, source="exam", question_id=answered.pk)
    assert set(facts.values_list("question_version", flat=True)) == {1, 2}
    assert facts.count() == 2


def test_a_rekey_after_submission_leaves_the_review_on_the_old_key(
    user_client: APIClient, editor: Any
) -> None:
    question = make_question()
    old_key = key_of(question)
    first = sit(user_client, fixed_template([question]).pk, {question.pk: old_key})
    target = [o["id"] for o in new_key_spec(question) if o["is_correct"]]
    rekey_question(question_id=question.pk, correct_option_ids=target, reason="r", by=editor)
    [attempt] = user_client.get(f"{SESSIONS}/{first['id']}/review").json()["attempts"]
    assert (attempt["question_version"], attempt["correct_option_ids"]) == (1, old_key)


def test_the_review_of_edited_questions_reads_their_snapshots_in_one_query(
    user_client: APIClient, editor: Any, django_assert_max_num_queries: Any
) -> None:
    small_bank, big_bank = make_bank(categories=2, per_category=12)
    small = blueprint_template({small_bank: 2}, name="Small")
    big = blueprint_template({big_bank: 12}, name="Big")
    reviews = []
    for template in (small, big):
        started = user_client.post(SESSIONS, {"template_id": template.pk}, format="json").json()
        user_client.post(f"{SESSIONS}/{started['id']}/submit")
        reviews.append(started["id"])
    for question in Question.objects.all():  # every question now has two snapshots
        update_question(question=question, actor=editor, explanation=f"Edited {question.pk}.")
    with django_assert_max_num_queries(12) as small_run:
        assert user_client.get(f"{SESSIONS}/{reviews[0]}/review").status_code == 200
    with django_assert_max_num_queries(len(small_run.captured_queries)):
        body = user_client.get(f"{SESSIONS}/{reviews[1]}/review").json()
    assert {a["question_version"] for a in body["attempts"]} == {1}
    assert not any(a["explanation"].startswith("Edited") for a in body["attempts"])
    snapshot_reads = [
        q["sql"] for q in small_run.captured_queries if "questions_questionversion" in q["sql"]
    ]
    assert len(snapshot_reads) == 1


def test_the_review_follows_the_version_an_answer_was_regraded_on(
    user_client: APIClient, editor: Any
) -> None:
    """A regrade (apps.quality) moves an answer to the new version: the review then shows that
    version's key, though the old one was in force when the paper was scored."""
    question = make_question()
    first = sit(user_client, fixed_template([question]).pk, {question.pk: key_of(question)})
    target = [o["id"] for o in new_key_spec(question) if o["is_correct"]]
    rekey_question(question_id=question.pk, correct_option_ids=target, reason="r", by=editor)
    ExamAnswer.objects.filter(question=question).update(question_version=2, is_correct=False)
    [attempt] = user_client.get(f"{SESSIONS}/{first['id']}/review").json()["attempts"]
    assert (attempt["question_version"], attempt["correct_option_ids"]) == (2, target)
    assert attempt["is_correct"] is False
