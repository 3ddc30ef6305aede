"""A practice attempt keeps the version it was graded on; the session's questions show an
answered question's key and explanation of that version, not the question as edited since."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.analytics.models import AnswerFact
from apps.practice.models import PracticeAttempt
from apps.questions.models import Question
from apps.questions.services import update_question
from tests.practice.conftest import Bank, correct_ids, start_session

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/practice/sessions"


def attempt_of(client: APIClient, session_id: int, question_id: int) -> dict[str, Any]:
    items = client.get(f"{SESSIONS}/{session_id}/questions").json()
    [item] = [i for i in items if i["id"] == question_id]
    attempt: dict[str, Any] = item["attempt"]
    return attempt


def answer(client: APIClient, session_id: int, question_id: int, ids: list[int]) -> Any:
    response = client.post(
        f"{SESSIONS}/{session_id}/attempts",
        {"question_id": question_id, "selected_option_ids": ids, "time_spent_sec": 5},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def move_key(question: Question, editor: Any) -> None:
    options = list(question.options.order_by("order", "id"))
    update_question(
        question=question,
        actor=editor,
        options=[
            {"id": o.pk, "text": o.text, "is_correct": i == len(options) - 1}
            for i, o in enumerate(options)
        ],
        explanation="New reasoning.",
    )


def test_history_shows_the_key_and_explanation_the_attempt_was_graded_on(
    user: User, user_client: APIClient, bank: Bank, editor: Any
) -> None:
    first = start_session(user, count=1, category_slugs=["physiology"], include_explanations=True)
    qid = first.question_ids[0]
    question = Question.objects.get(pk=qid)
    old_key, old_explanation = correct_ids(qid), question.explanation
    assert answer(user_client, first.pk, qid, old_key)["is_correct"] is True
    assert PracticeAttempt.objects.get(session=first).question_version == 1
    assert AnswerFact.objects.get(source="practice", source_id=first.pk).question_version == 1

    move_key(question, editor)
    new_key = correct_ids(qid)
    assert new_key != old_key

    old = attempt_of(user_client, first.pk, qid)
    assert (old["question_version"], old["correct_option_ids"], old["explanation"]) == (
        1,
        old_key,
        old_explanation,
    )
    assert old["is_correct"] is True

    second = start_session(user, count=4, category_slugs=["physiology"], include_explanations=True)
    assert answer(user_client, second.pk, qid, new_key)["is_correct"] is True
    now = attempt_of(user_client, second.pk, qid)
    assert (now["question_version"], now["correct_option_ids"], now["explanation"]) == (
        2,
        new_key,
        "New reasoning.",
    )
    assert AnswerFact.objects.get(source="practice", source_id=second.pk).question_version == 2


def test_history_of_edited_questions_reads_their_snapshots_in_one_query(
    user: User, user_client: APIClient, bank: Bank, editor: Any
) -> None:
    session = start_session(user, count=10, include_explanations=True)
    for qid in session.question_ids:
        answer(user_client, session.pk, qid, correct_ids(qid))
    for question in bank.all_questions:
        move_key(question, editor)
    with CaptureQueriesContext(connection) as run:
        items = user_client.get(f"{SESSIONS}/{session.pk}/questions").json()
    assert {i["attempt"]["question_version"] for i in items} == {1}
    assert all(i["attempt"]["explanation"] != "New reasoning." for i in items)
    reads = [q["sql"] for q in run.captured_queries if "questions_questionversion" in q["sql"]]
    assert len(reads) == 1
    # Every answered question has a snapshot, so no current key is read at all.
    key_reads = [
        q
        for q in run.captured_queries
        if 'WHERE ("questions_answeroption"."is_correct"' in q["sql"]
    ]
    assert not key_reads


def test_the_migration_backfills_practice_facts_from_their_attempts(
    user: User, user_client: APIClient, bank: Bank
) -> None:
    migration = importlib.import_module(
        "apps.analytics.migrations.0005_backfill_practice_fact_versions"
    )
    session = start_session(user, count=2)
    for qid in session.question_ids:
        answer(user_client, session.pk, qid, correct_ids(qid))
    PracticeAttempt.objects.filter(question_id=session.question_ids[1]).update(question_version=3)
    AnswerFact.objects.update(question_version=None)
    migration.backfill(django_apps, None)
    assert dict(AnswerFact.objects.values_list("question_id", "question_version")) == {
        session.question_ids[0]: 1,
        session.question_ids[1]: 3,
    }
