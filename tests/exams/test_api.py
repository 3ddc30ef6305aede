from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.exams.models import ExamAnswer, ExamSession, SessionStatus
from apps.questions.models import Question
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.conftest import client_for
from tests.exams.factories import (
    ExamTemplateFactory,
    blueprint_template,
    correct_answers,
    fixed_template,
    make_bank,
    wrong_option,
)
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

TEMPLATES = "/api/v1/exams/templates"
SESSIONS = "/api/v1/exams/sessions"
KEY_FIELDS = {"is_correct", "explanation", "correct_option_ids", "reference"}


def session_url(session_id: int, tail: str = "") -> str:
    return f"{SESSIONS}/{session_id}{tail}"


def keys_in(document: Any) -> set[str]:
    """Every dict key anywhere in a JSON document."""
    found: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            found.add(key)
            found |= keys_in(value)
    elif isinstance(document, list):
        for item in document:
            found |= keys_in(item)
    return found


def assert_no_key(document: Any) -> None:
    leaked = keys_in(document) & KEY_FIELDS
    assert not leaked, f"answer key leaked: {leaked}"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def start(client: APIClient, template_id: int) -> dict[str, Any]:
    response = client.post(SESSIONS, {"template_id": template_id}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- Full flow ----------------------------------------------------------------------------------


def test_full_exam_flow_through_login(api_client, user, template):
    login = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")

    listed = api_client.get(TEMPLATES)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()] == [template.id]
    assert listed.json()[0]["available"] is True
    assert_no_key(listed.json())

    paper = start(api_client, template.id)
    assert_no_key(paper)
    session = ExamSession.objects.get(id=paper["id"])
    keys = correct_answers(session)
    ids = [q["id"] for q in paper["questions"]]
    assert ids == session.question_ids

    # Answer everything right except the last question (left blank), in two requests.
    first = api_client.post(
        session_url(paper["id"], "/attempts"),
        {"question_id": ids[0], "selected_option_ids": keys[ids[0]], "time_spent_sec": 30},
        format="json",
    )
    assert first.status_code == 200, first.content
    assert_no_key(first.json())
    batch = api_client.post(
        session_url(paper["id"], "/attempts"),
        {
            "attempts": [
                {"question_id": q, "selected_option_ids": keys[q], "time_spent_sec": 20}
                for q in ids[1:-1]
            ]
        },
        format="json",
    )
    assert batch.status_code == 200, batch.content
    assert_no_key(batch.json())
    assert [a["question_id"] for a in batch.json()["attempts"]] == ids[1:-1]

    reloaded = api_client.get(session_url(paper["id"])).json()
    assert reloaded["answered"] == len(ids) - 1
    assert reloaded["questions"] == paper["questions"]

    submitted = api_client.post(session_url(paper["id"], "/submit"))
    assert submitted.status_code == 200, submitted.content
    result = submitted.json()
    assert result["status"] == "submitted"
    assert result["correct"] == result["answered"] == len(ids) - 1
    assert result["total"] == len(ids)
    assert result["score_percent"] == round(100 * (len(ids) - 1) / len(ids))
    assert {c["total"] for c in result["categories"]} == {3}

    review = api_client.get(session_url(paper["id"], "/review"))
    assert review.status_code == 200
    body = review.json()
    assert body["id"] == paper["id"]
    assert body["template"]["name"] == template.name
    assert body["score_percent"] == result["score_percent"]
    assert [a["question_id"] for a in body["attempts"]] == ids
    for attempt in body["attempts"][:-1]:
        assert attempt["is_correct"] is True
        assert attempt["selected_option_ids"] == attempt["correct_option_ids"]
        assert attempt["explanation"] == "Because the anatomy says so."
    assert body["attempts"][-1]["is_correct"] is False
    assert body["attempts"][-1]["selected_option_ids"] == []

    history = api_client.get(SESSIONS).json()
    assert history["count"] == 1
    row = history["results"][0]
    assert row["template"]["name"] == template.name
    assert row["score_percent"] == result["score_percent"]
    assert row["answered"] == len(ids) - 1
    assert row["status"] == "submitted"


def test_every_endpoint_needs_a_token(api_client, template):
    for method, url in [
        ("get", TEMPLATES),
        ("get", SESSIONS),
        ("post", SESSIONS),
        ("get", session_url(1)),
        ("post", session_url(1, "/attempts")),
        ("post", session_url(1, "/submit")),
        ("get", session_url(1, "/review")),
    ]:
        response = getattr(api_client, method)(url, {}, format="json")
        assert_error(response, 401, "not_authenticated")


def test_trailing_slash_works(user_client, template):
    assert user_client.get(TEMPLATES + "/").status_code == 200
    assert user_client.post(SESSIONS + "/", {"template_id": template.id}).status_code == 201


# --- Templates ----------------------------------------------------------------------------------


def test_templates_list_is_a_plain_array_with_availability(user_client, template):
    (small,) = make_bank(categories=1, per_category=1)
    unfillable = blueprint_template({small: 5}, name="Too big, Paper 2", paper=2)
    ExamTemplateFactory(is_active=False, name="Retired mock")
    response = user_client.get(TEMPLATES)
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()}
    assert set(rows) == {template.id, unfillable.id}
    assert rows[template.id] == {
        "id": template.id,
        "name": template.name,
        "paper": 1,
        "duration_minutes": 30,
        "total_questions": 6,
        "description": template.description,
        "available": True,
        "unavailable_reason": None,
    }
    assert rows[unfillable.id]["available"] is False
    assert "1 of the 5" in rows[unfillable.id]["unavailable_reason"]


def test_templates_list_query_count_does_not_grow(user_client, django_assert_max_num_queries):
    categories = make_bank(categories=3, per_category=2)
    for i in range(2):
        blueprint_template(dict.fromkeys(categories, 1), name=f"Blueprint {i}")
    fixed_template([make_question() for _ in range(3)], name="Fixed 0")
    with django_assert_max_num_queries(8) as few:
        assert user_client.get(TEMPLATES).status_code == 200
    for i in range(2, 12):
        blueprint_template(dict.fromkeys(categories, 1), name=f"Blueprint {i}")
        fixed_template([make_question() for _ in range(3)], name=f"Fixed {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = user_client.get(TEMPLATES)
    assert len(response.json()) == 23
    assert all(row["available"] for row in response.json())


# --- Starting -----------------------------------------------------------------------------------


def test_start_returns_the_paper_without_the_key(user_client, template):
    paper = start(user_client, template.id)
    assert_no_key(paper)
    session = ExamSession.objects.get(id=paper["id"])
    assert paper["status"] == "in_progress"
    assert paper["total_questions"] == 6
    assert paper["answered"] == 0
    assert paper["answers"] == []
    assert paper["result"] is None
    assert datetime.fromisoformat(paper["expires_at"]) == session.expires_at
    assert datetime.fromisoformat(paper["server_now"]) >= session.started_at
    for question in paper["questions"]:
        assert [o["id"] for o in question["options"]] == session.option_order[str(question["id"])]
        assert set(question["options"][0]) == {"id", "text"}


def test_starting_an_open_template_again_returns_it_with_200(user_client, template):
    paper = start(user_client, template.id)
    again = user_client.post(SESSIONS, {"template_id": template.id}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == paper["id"]
    assert again.json()["questions"] == paper["questions"]


def test_start_unfillable_template_is_409(user_client):
    (category,) = make_bank(categories=1, per_category=1)
    template = blueprint_template({category: 2})
    response = user_client.post(SESSIONS, {"template_id": template.id}, format="json")
    body = assert_error(response, 409, "template_unfillable")
    assert "1 of the 2" in body["message"]
    assert not ExamSession.objects.exists()


@pytest.mark.parametrize(
    "payload", [{}, {"template_id": "abc"}, {"template_id": -1}, {"template_id": None}]
)
def test_start_with_bad_input_is_400(user_client, payload):
    body = assert_error(user_client.post(SESSIONS, payload, format="json"), 400, "validation_error")
    assert "template_id" in body["fields"]
    assert not ExamSession.objects.exists()


def test_start_unknown_or_inactive_template_is_404(user_client, template):
    assert_error(
        user_client.post(SESSIONS, {"template_id": template.id + 99}, format="json"),
        404,
        "not_found",
    )
    template.is_active = False
    template.save()
    assert_error(
        user_client.post(SESSIONS, {"template_id": template.id}, format="json"), 404, "not_found"
    )


# --- Reading ------------------------------------------------------------------------------------


def test_detail_shows_saved_answers_and_flags_without_the_key(user_client, template):
    paper = start(user_client, template.id)
    q0, q1 = paper["questions"][0], paper["questions"][1]
    user_client.post(
        session_url(paper["id"], "/attempts"),
        {
            "attempts": [
                {"question_id": q0["id"], "selected_option_ids": [q0["options"][2]["id"]]},
                {"question_id": q1["id"], "flagged": True},
            ]
        },
        format="json",
    )
    body = user_client.get(session_url(paper["id"])).json()
    assert_no_key(body)
    answers = {a["question_id"]: a for a in body["answers"]}
    assert answers[q0["id"]]["selected_option_ids"] == [q0["options"][2]["id"]]
    assert answers[q0["id"]]["flagged"] is False
    assert answers[q1["id"]]["flagged"] is True
    assert answers[q1["id"]]["selected_option_ids"] == []
    assert (body["answered"], body["flagged"]) == (1, 1)


def test_detail_query_count_does_not_grow_with_questions(
    user, user_client, django_assert_max_num_queries
):
    small_bank, big_bank = make_bank(categories=2, per_category=40)
    small = blueprint_template({small_bank: 5}, name="Small")
    big = blueprint_template({big_bank: 40}, name="Big")
    small_paper = start(user_client, small.id)
    big_paper = start(user_client, big.id)
    for paper in (small_paper, big_paper):
        user_client.post(
            session_url(paper["id"], "/attempts"),
            {
                "attempts": [
                    {"question_id": q["id"], "selected_option_ids": [q["options"][0]["id"]]}
                    for q in paper["questions"]
                ]
            },
            format="json",
        )
    with django_assert_max_num_queries(12) as small_run:
        assert user_client.get(session_url(small_paper["id"])).status_code == 200
    with django_assert_max_num_queries(len(small_run.captured_queries)):
        assert user_client.get(session_url(big_paper["id"])).status_code == 200
    with django_assert_max_num_queries(14) as answer_run:
        user_client.post(
            session_url(small_paper["id"], "/attempts"),
            {
                "attempts": [
                    {"question_id": q["id"], "flagged": True} for q in small_paper["questions"]
                ]
            },
            format="json",
        )
    with django_assert_max_num_queries(len(answer_run.captured_queries)):
        user_client.post(
            session_url(big_paper["id"], "/attempts"),
            {
                "attempts": [
                    {"question_id": q["id"], "flagged": True} for q in big_paper["questions"]
                ]
            },
            format="json",
        )


def test_history_is_paginated_newest_first_and_only_mine(
    user, other_user, django_assert_max_num_queries
):
    # Access tokens are short-lived: each time-travelled request gets a client issued "then".
    categories = make_bank(categories=1, per_category=3)
    templates = [
        blueprint_template({categories[0]: 1}, name=f"Mock {i}", duration_minutes=600)
        for i in range(5)
    ]
    base = datetime.fromisoformat("2030-01-01T09:00:00+00:00")
    for i, template in enumerate(templates):
        with time_machine.travel(base + timedelta(hours=i), tick=False):
            client = client_for(user)
            paper = start(client, template.id)
            if i % 2 == 0:
                client.post(session_url(paper["id"], "/submit"))
    with time_machine.travel(base + timedelta(hours=1, minutes=5), tick=False):
        start(client_for(other_user), templates[0].id)

    with time_machine.travel(base + timedelta(hours=5, minutes=10), tick=False):
        client = client_for(user)
        with django_assert_max_num_queries(8) as one_page:
            response = client.get(SESSIONS, {"page_size": 2})
        body = response.json()
        assert body["count"] == 5
        assert body["next"] is not None
        assert [r["template"]["name"] for r in body["results"]] == ["Mock 4", "Mock 3"]
        assert body["results"][0]["status"] == "submitted"
        assert body["results"][1]["status"] == "in_progress"
        assert body["results"][1]["score_percent"] is None
        assert_no_key(body)
        with django_assert_max_num_queries(len(one_page.captured_queries)):
            everything = client.get(SESSIONS, {"page_size": 100}).json()
    assert [r["template"]["name"] for r in everything["results"]] == [
        f"Mock {i}" for i in reversed(range(5))
    ]


def test_history_scores_expired_sessions_before_listing(user, user_client, template):
    paper = start(user_client, template.id)
    expires_at = datetime.fromisoformat(paper["expires_at"])
    with time_machine.travel(expires_at + timedelta(minutes=5)):
        row = client_for(user).get(SESSIONS).json()["results"][0]
    assert row["status"] == "expired_submitted"
    assert row["auto_submitted"] is True
    assert row["score_percent"] == 0


# --- Saving answers -----------------------------------------------------------------------------


def test_attempt_errors_are_400_in_the_envelope_and_write_nothing(user_client, template):
    paper = start(user_client, template.id)
    url = session_url(paper["id"], "/attempts")
    q0, q1 = paper["questions"][0], paper["questions"][1]
    stranger = make_question()
    cases = [
        ({"question_id": stranger.id, "selected_option_ids": []}, "question_id"),
        (
            {"question_id": q0["id"], "selected_option_ids": [q1["options"][0]["id"]]},
            "selected_option_ids",
        ),
        ({"question_id": q0["id"], "selected_option_ids": ["x"]}, "selected_option_ids.0"),
        ({"question_id": q0["id"], "time_spent_sec": -1}, "time_spent_sec"),
        ({"selected_option_ids": []}, "question_id"),
        ({"attempts": []}, "attempts"),
        (
            {
                "attempts": [
                    {"question_id": q0["id"], "selected_option_ids": [q0["options"][0]["id"]]},
                    {"question_id": stranger.id},
                ]
            },
            "attempts.1.question_id",
        ),
    ]
    for payload, field in cases:
        body = assert_error(user_client.post(url, payload, format="json"), 400, "validation_error")
        assert field in body["fields"], (payload, body)
    assert_error(user_client.post(url, [1, 2], format="json"), 400, "validation_error")
    assert not ExamAnswer.objects.exists()


def test_client_timestamps_are_ignored(user_client, template):
    paper = start(user_client, template.id)
    q0 = paper["questions"][0]
    response = user_client.post(
        session_url(paper["id"], "/attempts"),
        {
            "question_id": q0["id"],
            "selected_option_ids": [q0["options"][0]["id"]],
            "saved_at": "2000-01-01T00:00:00Z",
            "answered_at": "2000-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 200
    saved = ExamAnswer.objects.get()
    assert saved.saved_at.year > 2000


def test_answers_after_submission_are_409(user_client, template):
    paper = start(user_client, template.id)
    user_client.post(session_url(paper["id"], "/submit"))
    q0 = paper["questions"][0]
    response = user_client.post(
        session_url(paper["id"], "/attempts"),
        {"question_id": q0["id"], "selected_option_ids": [q0["options"][0]["id"]]},
        format="json",
    )
    assert_error(response, 409, "exam_submitted")
    assert not ExamAnswer.objects.exists()


# --- Submitting and reviewing -------------------------------------------------------------------


def test_repeated_submit_returns_the_stored_result(user_client, template):
    paper = start(user_client, template.id)
    session = ExamSession.objects.get(id=paper["id"])
    q = session.question_ids
    user_client.post(
        session_url(paper["id"], "/attempts"),
        {"question_id": q[0], "selected_option_ids": [wrong_option(session, q[0])]},
        format="json",
    )
    first = user_client.post(session_url(paper["id"], "/submit"))
    second = user_client.post(session_url(paper["id"], "/submit"))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["answered"] == 1
    assert first.json()["correct"] == 0


def test_review_before_submission_is_409(user_client, template):
    paper = start(user_client, template.id)
    assert_error(user_client.get(session_url(paper["id"], "/review")), 409, "exam_not_submitted")


def test_review_keeps_the_session_order_and_option_order(user_client, template):
    paper = start(user_client, template.id)
    user_client.post(session_url(paper["id"], "/submit"))
    review = user_client.get(session_url(paper["id"], "/review")).json()
    assert [a["question_id"] for a in review["attempts"]] == [q["id"] for q in paper["questions"]]
    for attempt, question in zip(review["attempts"], paper["questions"], strict=True):
        assert attempt["options"] == question["options"]
        assert attempt["stem"] == question["stem"]
        assert attempt["is_correct"] is False
        expected = sorted(
            Question.objects.get(id=question["id"])
            .options.filter(is_correct=True)
            .values_list("id", flat=True)
        )
        assert attempt["correct_option_ids"] == expected
    assert set(review["attempts"][0]) >= {
        "question_id",
        "selected_option_ids",
        "correct_option_ids",
        "is_correct",
        "explanation",
    }


def test_review_query_count_does_not_grow(user_client, django_assert_max_num_queries):
    small_bank, big_bank = make_bank(categories=2, per_category=30)
    small = blueprint_template({small_bank: 3}, name="Small")
    big = blueprint_template({big_bank: 30}, name="Big")
    ids = []
    for template in (small, big):
        paper = start(user_client, template.id)
        user_client.post(session_url(paper["id"], "/submit"))
        ids.append(paper["id"])
    with django_assert_max_num_queries(12) as small_run:
        assert user_client.get(session_url(ids[0], "/review")).status_code == 200
    with django_assert_max_num_queries(len(small_run.captured_queries)):
        assert user_client.get(session_url(ids[1], "/review")).status_code == 200


# --- Other people's sessions --------------------------------------------------------------------


def test_another_users_session_is_404_on_every_endpoint(user_client, other_client, template):
    paper = start(user_client, template.id)
    q0 = paper["questions"][0]
    sid = paper["id"]
    assert_error(other_client.get(session_url(sid)), 404, "not_found")
    assert_error(
        other_client.post(
            session_url(sid, "/attempts"),
            {"question_id": q0["id"], "selected_option_ids": [q0["options"][0]["id"]]},
            format="json",
        ),
        404,
        "not_found",
    )
    assert_error(other_client.post(session_url(sid, "/submit")), 404, "not_found")
    assert_error(other_client.get(session_url(sid, "/review")), 404, "not_found")
    assert other_client.get(SESSIONS).json()["count"] == 0
    user_client.post(session_url(sid, "/submit"))
    assert_error(other_client.get(session_url(sid, "/review")), 404, "not_found")
    session = ExamSession.objects.get(id=sid)
    assert session.status == SessionStatus.SUBMITTED
    assert not ExamAnswer.objects.exists()


def test_staff_roles_get_no_special_access(examiner_client, user_client, template):
    paper = start(user_client, template.id)
    assert_error(examiner_client.get(session_url(paper["id"])), 404, "not_found")


def test_an_examiner_can_sit_an_exam(examiner, template):
    client = client_for(examiner)
    assert start(client, template.id)["status"] == "in_progress"
