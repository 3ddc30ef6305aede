"""The practice API end to end, through real JWT authentication."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.practice.models import PracticeAttempt, PracticeSession, QuestionFlag, QuestionReport
from apps.questions.models import Question, QuestionStatus
from tests.accounts.factories import UserFactory
from tests.conftest import client_for
from tests.practice.conftest import Bank, answer, correct_ids, start_session, wrong_ids
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/practice/sessions"


def session_url(session_id: int, tail: str = "") -> str:
    return f"{SESSIONS}/{session_id}{tail}"


def post_answer(
    client: APIClient, session_id: int, question_id: int, selected: list[int], seconds: int = 30
) -> Any:
    return client.post(
        session_url(session_id, "/attempts"),
        {"question_id": question_id, "selected_option_ids": selected, "time_spent_sec": seconds},
        format="json",
    )


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    if field is not None:
        assert field in body["fields"], body


# --- The whole flow ------------------------------------------------------------------------


def test_full_practice_flow(user: User, user_client: APIClient, bank: Bank) -> None:
    created = user_client.post(
        SESSIONS,
        {
            "categories": ["anatomy-embryology", "physiology"],
            "subcategories": [],
            "question_count": 4,
            "include_explanations": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    session = created.json()
    assert session["config"] == {
        "include_explanations": True,
        "categories": ["anatomy-embryology", "physiology"],
        "subcategories": [],
        "mode": "all",
    }
    assert len(session["question_ids"]) == 4
    assert len(set(session["question_ids"])) == 4
    assert {session["answered"], session["correct"]} == {0}
    assert session["completed_at"] is None
    assert session["is_short"] is False
    assert session["requested_count"] == 4
    assert session["available_count"] == 10
    sid = session["id"]

    detail = user_client.get(session_url(sid)).json()
    contract_keys = {"id", "question_ids", "config", "answered", "correct", "completed_at"}
    assert contract_keys <= set(detail)
    assert {"include_explanations", "categories"} <= set(detail["config"])
    assert detail["question_ids"] == session["question_ids"]

    questions = user_client.get(session_url(sid, "/questions"))
    assert questions.status_code == 200
    items = questions.json()
    assert [q["id"] for q in items] == session["question_ids"]
    assert [q["position"] for q in items] == [1, 2, 3, 4]
    for item in items:
        stored = list(
            Question.objects.get(pk=item["id"]).options.order_by("order", "id").values("id", "text")
        )
        assert item["options"] == stored
        assert item["attempt"] is None
        assert "explanation" not in item
        assert "is_correct" not in str(item)

    first, second = session["question_ids"][:2]
    right = post_answer(user_client, sid, first, correct_ids(first), seconds=40)
    assert right.status_code == 201, right.content
    assert right.json() == {
        "is_correct": True,
        "correct_option_ids": correct_ids(first),
        "explanation": Question.objects.get(pk=first).explanation,
        "percent_correct_others": None,
        "progress": {"answered": 1, "correct": 1, "question_count": 4},
    }
    wrong = post_answer(user_client, sid, second, wrong_ids(second), seconds=20)
    assert wrong.status_code == 201
    assert wrong.json()["is_correct"] is False
    assert wrong.json()["correct_option_ids"] == correct_ids(second)

    items = user_client.get(session_url(sid, "/questions")).json()
    assert items[0]["attempt"]["is_correct"] is True
    assert items[0]["attempt"]["selected_option_ids"] == correct_ids(first)
    assert items[0]["attempt"]["correct_option_ids"] == correct_ids(first)
    assert items[0]["attempt"]["explanation"]
    assert items[1]["attempt"]["is_correct"] is False
    assert items[2]["attempt"] is None
    assert items[3]["attempt"] is None

    detail = user_client.get(session_url(sid)).json()
    assert (detail["answered"], detail["correct"], detail["score_percent"]) == (2, 1, 50)

    summary = user_client.post(session_url(sid, "/complete"))
    assert summary.status_code == 200
    body = summary.json()
    assert body["id"] == sid
    assert (body["answered"], body["correct"], body["incorrect"], body["unanswered"]) == (
        2,
        1,
        1,
        2,
    )
    assert body["score_percent"] == 50
    assert body["time_spent_sec"] == 60
    assert body["completed_at"] is not None
    assert sum(c["question_count"] for c in body["categories"]) == 4
    assert sum(c["answered"] for c in body["categories"]) == 2
    assert sum(c["correct"] for c in body["categories"]) == 1
    for row in body["categories"]:
        assert set(row) >= {"category", "category_slug", "answered", "correct", "score_percent"}

    again = user_client.post(session_url(sid, "/complete"))
    assert again.status_code == 200
    assert again.json() == body

    history = user_client.get(SESSIONS).json()
    assert history["count"] == 1
    row = history["results"][0]
    assert row["id"] == sid
    assert (row["answered"], row["correct"], row["score_percent"], row["question_count"]) == (
        2,
        1,
        50,
        4,
    )
    assert row["completed_at"] == body["completed_at"]
    assert row["categories"] == ["anatomy-embryology", "physiology"]

    per_category = user_client.get("/api/v1/practice/summary").json()
    assert [r["category_slug"] for r in per_category] == ["anatomy-embryology", "physiology"]
    assert sum(r["answered"] for r in per_category) == 2
    assert sum(r["correct"] for r in per_category) == 1


def test_trailing_slash_works(user_client: APIClient, bank: Bank) -> None:
    response = user_client.post(f"{SESSIONS}/", {"question_count": 2}, format="json")
    assert response.status_code == 201
    assert user_client.get(f"{SESSIONS}/{response.json()['id']}/").status_code == 200


def test_authentication_is_required(api_client: APIClient, bank: Bank) -> None:
    for method, path in [
        ("get", SESSIONS),
        ("post", SESSIONS),
        ("get", "/api/v1/practice/summary"),
        ("get", "/api/v1/practice/flags"),
        ("post", "/api/v1/practice/reports"),
    ]:
        response = getattr(api_client, method)(path, {}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] in {"not_authenticated", "authentication_failed"}


def test_explanations_default_to_the_profile_preference(bank: Bank) -> None:
    user = UserFactory()
    user.profile.prefers_explanations = False
    user.profile.save()
    client = client_for(user)
    created = client.post(SESSIONS, {"question_count": 1}, format="json").json()
    assert created["config"]["include_explanations"] is False
    qid = created["question_ids"][0]
    feedback = post_answer(client, created["id"], qid, correct_ids(qid)).json()
    assert feedback["explanation"] is None
    item = client.get(session_url(created["id"], "/questions")).json()[0]
    assert item["attempt"]["explanation"] is None

    explicit = client.post(
        SESSIONS, {"question_count": 1, "include_explanations": True}, format="json"
    ).json()
    assert explicit["config"]["include_explanations"] is True


def test_subcategories_narrow_the_draw(user_client: APIClient, bank: Bank) -> None:
    response = user_client.post(
        SESSIONS,
        {
            "categories": ["anatomy-embryology"],
            "subcategories": ["upper-limb"],
            "question_count": 5,
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert sorted(body["question_ids"]) == sorted(q.pk for q in bank.anatomy_questions[:2])
    assert body["is_short"] is True


# --- Creating a session: bad input ---------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"categories": ["no-such-category"]}, "categories"),
        ({"categories": ["physiology", "nope"]}, "categories"),
        ({"subcategories": ["no-such-sub"]}, "subcategories"),
        ({"categories": ["physiology"], "subcategories": ["upper-limb"]}, "subcategories"),
        ({"categories": "anatomy-embryology"}, "categories"),
        ({"categories": ["Not A Slug!"]}, "categories.0"),
        ({"question_count": 0}, "question_count"),
        ({"question_count": 101}, "question_count"),
        ({"question_count": "many"}, "question_count"),
        ({"question_count": None}, "question_count"),
        ({"mode": "hardest"}, "mode"),
        ({"include_explanations": "perhaps"}, "include_explanations"),
    ],
)
def test_create_rejects_bad_input(
    user_client: APIClient, bank: Bank, payload: dict[str, Any], field: str
) -> None:
    response = user_client.post(SESSIONS, {"question_count": 5, **payload}, format="json")
    assert_error(response, 400, "validation_error", field)
    assert PracticeSession.objects.count() == 0


def test_inactive_category_is_unknown(user_client: APIClient, bank: Bank) -> None:
    bank.physiology.is_active = False
    bank.physiology.save()
    response = user_client.post(SESSIONS, {"categories": ["physiology"]}, format="json")
    assert_error(response, 400, "validation_error", "categories")


def test_short_session_says_so(user_client: APIClient, bank: Bank) -> None:
    response = user_client.post(
        SESSIONS, {"categories": ["physiology"], "question_count": 50}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["is_short"] is True
    assert body["requested_count"] == 50
    assert body["available_count"] == 4
    assert body["question_count"] == 4
    assert sorted(body["question_ids"]) == sorted(q.pk for q in bank.physiology_questions)


def test_no_questions_is_a_conflict(user_client: APIClient, bank: Bank) -> None:
    CategoryFactory(name="Empty", slug="empty")
    response = user_client.post(SESSIONS, {"categories": ["empty"]}, format="json")
    assert_error(response, 409, "no_questions")
    response = user_client.post(SESSIONS, {"mode": "flagged"}, format="json")
    assert_error(response, 409, "no_questions")
    assert PracticeSession.objects.count() == 0


def test_draft_and_retired_questions_are_never_drawn(user_client: APIClient, bank: Bank) -> None:
    draft, retired = bank.physiology_questions[:2]
    Question.objects.filter(pk=draft.pk).update(status=QuestionStatus.DRAFT)
    Question.objects.filter(pk=retired.pk).update(status=QuestionStatus.RETIRED)
    body = user_client.post(
        SESSIONS, {"categories": ["physiology"], "question_count": 10}, format="json"
    ).json()
    assert sorted(body["question_ids"]) == sorted(q.pk for q in bank.physiology_questions[2:])


# --- Answering: bad input and state conflicts ----------------------------------------------


@pytest.fixture
def session(user: User, bank: Bank) -> PracticeSession:
    return start_session(user, count=3, category_slugs=["anatomy-embryology"])


def _nothing_recorded(session: PracticeSession) -> None:
    session.refresh_from_db()
    assert (session.answered, session.correct, session.time_spent_sec) == (0, 0, 0)
    assert not PracticeAttempt.objects.filter(session=session).exists()


def test_answer_to_a_question_outside_the_session(
    user_client: APIClient, session: PracticeSession, bank: Bank
) -> None:
    outsider = next(q for q in bank.all_questions if q.pk not in session.question_ids)
    response = post_answer(user_client, session.pk, outsider.pk, correct_ids(outsider))
    assert_error(response, 400, "question_not_in_session", "question_id")
    response = post_answer(user_client, session.pk, 999_999, [1])
    assert_error(response, 400, "question_not_in_session")
    _nothing_recorded(session)


def test_answering_twice_is_a_conflict(user_client: APIClient, session: PracticeSession) -> None:
    qid = session.question_ids[0]
    assert post_answer(user_client, session.pk, qid, wrong_ids(qid)).status_code == 201
    response = post_answer(user_client, session.pk, qid, correct_ids(qid))
    assert_error(response, 409, "already_answered")
    session.refresh_from_db()
    assert (session.answered, session.correct) == (1, 0)
    assert PracticeAttempt.objects.filter(session=session).count() == 1


def test_answering_a_completed_session_is_a_conflict(
    user_client: APIClient, session: PracticeSession
) -> None:
    assert user_client.post(session_url(session.pk, "/complete")).status_code == 200
    qid = session.question_ids[0]
    response = post_answer(user_client, session.pk, qid, correct_ids(qid))
    assert_error(response, 409, "session_completed")
    _nothing_recorded(session)


@pytest.mark.parametrize(
    ("selection", "field"),
    [
        ("empty", "selected_option_ids"),
        ("missing", "selected_option_ids"),
        ("foreign", "selected_option_ids"),
        ("two_on_single", "selected_option_ids"),
        ("not_ints", "selected_option_ids.0"),
    ],
)
def test_bad_selections_are_refused(
    user_client: APIClient, session: PracticeSession, bank: Bank, selection: str, field: str
) -> None:
    qid = session.question_ids[0]
    options = list(Question.objects.get(pk=qid).options.values_list("id", flat=True))
    other = next(q for q in bank.all_questions if q.pk != qid)
    payload: dict[str, Any] = {"question_id": qid, "time_spent_sec": 5}
    payload["selected_option_ids"] = {
        "empty": [],
        "missing": None,
        "foreign": [other.options.values_list("id", flat=True)[0]],
        "two_on_single": options[:2],
        "not_ints": ["a"],
    }[selection]
    if selection == "missing":
        del payload["selected_option_ids"]
    response = user_client.post(session_url(session.pk, "/attempts"), payload, format="json")
    assert_error(response, 400, "validation_error", field)
    _nothing_recorded(session)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"time_spent_sec": -1}, "time_spent_sec"),
        ({"time_spent_sec": "slow"}, "time_spent_sec"),
        ({"time_spent_sec": 2**40}, "time_spent_sec"),
        ({"question_id": None}, "question_id"),
        ({"question_id": "one"}, "question_id"),
    ],
)
def test_bad_answer_fields_are_refused(
    user_client: APIClient, session: PracticeSession, payload: dict[str, Any], field: str
) -> None:
    qid = session.question_ids[0]
    body = {"question_id": qid, "selected_option_ids": correct_ids(qid), **payload}
    response = user_client.post(session_url(session.pk, "/attempts"), body, format="json")
    assert_error(response, 400, "validation_error", field)
    _nothing_recorded(session)


def test_multi_response_is_graded_by_exact_set(
    user: User, user_client: APIClient, bank: Bank
) -> None:
    session = start_session(user, count=4, category_slugs=["physiology"])
    first, second, third = session.question_ids[:3]
    key = correct_ids(first)
    assert len(key) == 2
    assert post_answer(user_client, session.pk, first, key).json()["is_correct"] is True
    partial = post_answer(user_client, session.pk, second, correct_ids(second)[:1]).json()
    assert partial["is_correct"] is False
    extra = correct_ids(third) + wrong_ids(third)
    assert post_answer(user_client, session.pk, third, extra).json()["is_correct"] is False


def test_duplicate_option_ids_count_once(user_client: APIClient, session: PracticeSession) -> None:
    qid = session.question_ids[0]
    key = correct_ids(qid)
    response = post_answer(user_client, session.pk, qid, key + key)
    assert response.status_code == 201
    assert response.json()["is_correct"] is True
    assert PracticeAttempt.objects.get(session=session).selected_option_ids == key


def test_long_times_are_stored_but_capped_for_statistics(
    user_client: APIClient, session: PracticeSession, settings: Any
) -> None:
    settings.ANALYTICS_ANSWER_TIME_CAP_SEC = 600
    qid = session.question_ids[0]
    assert (
        post_answer(user_client, session.pk, qid, correct_ids(qid), seconds=50_000).status_code
        == 201
    )
    attempt = PracticeAttempt.objects.get(session=session)
    assert (attempt.time_spent_sec, attempt.counted_time_sec) == (50_000, 600)
    session.refresh_from_db()
    assert session.time_spent_sec == 600


def test_withdrawn_question_cannot_be_answered(
    user_client: APIClient, session: PracticeSession
) -> None:
    qid = session.question_ids[0]
    Question.objects.filter(pk=qid).update(status=QuestionStatus.RETIRED)
    response = post_answer(user_client, session.pk, qid, correct_ids(qid))
    assert_error(response, 409, "question_unavailable")
    _nothing_recorded(session)
    item = user_client.get(session_url(session.pk, "/questions")).json()[0]
    assert item["id"] == qid
    assert item["is_available"] is False


def test_a_question_whose_category_was_deactivated_cannot_be_answered(
    user_client: APIClient, session: PracticeSession, bank: Bank
) -> None:
    """Answering reads the question through ``Question.objects.published()``: a published
    question in an inactive category is as unavailable as a retired one."""
    qid = session.question_ids[0]
    bank.anatomy.is_active = False
    bank.anatomy.save(update_fields=["is_active"])
    response = post_answer(user_client, session.pk, qid, correct_ids(qid))
    assert_error(response, 409, "question_unavailable")
    _nothing_recorded(session)


def test_answering_twice_is_refused_before_the_selection_is_checked(
    user_client: APIClient, session: PracticeSession
) -> None:
    qid = session.question_ids[0]
    assert post_answer(user_client, session.pk, qid, correct_ids(qid)).status_code == 201
    # Even an invalid second selection is told the question is answered (a double click).
    assert_error(post_answer(user_client, session.pk, qid, [999_999]), 409, "already_answered")
    session.refresh_from_db()
    assert (session.answered, session.correct) == (1, 1)


def test_percent_correct_others_reads_the_statistics_before_the_answer(
    user_client: APIClient, session: PracticeSession
) -> None:
    qid = session.question_ids[0]
    Question.objects.filter(pk=qid).update(times_answered=3, times_correct=2)
    response = post_answer(user_client, session.pk, qid, correct_ids(qid))
    assert response.json()["percent_correct_others"] == 67


# --- Other users' sessions -----------------------------------------------------------------


def test_another_users_session_is_not_found(
    other_client: APIClient, session: PracticeSession
) -> None:
    qid = session.question_ids[0]
    for response in [
        other_client.get(session_url(session.pk)),
        other_client.get(session_url(session.pk, "/questions")),
        post_answer(other_client, session.pk, qid, correct_ids(qid)),
        other_client.post(session_url(session.pk, "/complete")),
    ]:
        assert_error(response, 404, "not_found")
    assert other_client.get(SESSIONS).json()["count"] == 0
    _nothing_recorded(session)
    session.refresh_from_db()
    assert session.completed_at is None


def test_unknown_session_is_not_found(user_client: APIClient, bank: Bank) -> None:
    assert_error(user_client.get(session_url(424242)), 404, "not_found")
    assert_error(user_client.post(session_url(424242, "/complete")), 404, "not_found")


# --- History -------------------------------------------------------------------------------


def test_history_is_newest_first_and_filterable(
    user: User, user_client: APIClient, bank: Bank
) -> None:
    older = start_session(user, count=1)
    newer = start_session(user, count=2)
    user_client.post(session_url(older.pk, "/complete"))
    results = user_client.get(SESSIONS).json()["results"]
    assert [r["id"] for r in results] == [newer.pk, older.pk]
    assert results[0]["score_percent"] is None
    completed = user_client.get(SESSIONS, {"completed": "true"}).json()["results"]
    assert [r["id"] for r in completed] == [older.pk]
    open_ = user_client.get(SESSIONS, {"completed": "false"}).json()["results"]
    assert [r["id"] for r in open_] == [newer.pk]
    page = user_client.get(SESSIONS, {"page_size": 1}).json()
    assert page["count"] == 2
    assert page["next"] is not None
    assert len(page["results"]) == 1


# --- Query counts --------------------------------------------------------------------------


def test_history_query_count_does_not_grow_with_the_page(
    user: User, user_client: APIClient, bank: Bank, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        start_session(user, count=2)
    with CaptureQueriesContext(connection) as small:
        assert len(user_client.get(SESSIONS, {"page_size": 3}).json()["results"]) == 3
    for _ in range(12):
        s = start_session(user, count=2)
        answer(user, s, s.question_ids[0], right=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(user_client.get(SESSIONS, {"page_size": 15}).json()["results"]) == 15


def test_session_questions_query_count_is_fixed(
    user: User, user_client: APIClient, bank: Bank, django_assert_max_num_queries: Any
) -> None:
    small = start_session(user, count=1, category_slugs=["physiology"])
    with CaptureQueriesContext(connection) as baseline:
        user_client.get(session_url(small.pk, "/questions"))
    answer(user, small, small.question_ids[0], right=True)
    with CaptureQueriesContext(connection) as answered_small:
        user_client.get(session_url(small.pk, "/questions"))
    big = start_session(user, count=10)
    for qid in big.question_ids[:6]:
        answer(user, big, qid, right=qid % 2 == 0)
        QuestionFlag.objects.create(user=user, question_id=qid)
    with django_assert_max_num_queries(len(answered_small.captured_queries)):
        items = user_client.get(session_url(big.pk, "/questions")).json()
    assert len(items) == 10
    assert sum(1 for i in items if i["attempt"]) == 6
    assert sum(1 for i in items if i["is_flagged"]) == 6
    # Answered questions add the snapshots of their versions and, for questions never edited
    # (no snapshot, as these factory-made ones), their current key.
    assert len(answered_small.captured_queries) <= len(baseline.captured_queries) + 2


def test_answer_statement_count_is_fixed(
    user: User, user_client: APIClient, bank: Bank, django_assert_max_num_queries: Any
) -> None:
    first = start_session(user, count=10)
    qid = first.question_ids[0]
    with CaptureQueriesContext(connection) as fresh:
        assert post_answer(user_client, first.pk, qid, correct_ids(qid)).status_code == 201
    for qid in first.question_ids[1:9]:
        answer(user, first, qid, right=False)
    qid = first.question_ids[9]
    with django_assert_max_num_queries(len(fresh.captured_queries)):
        assert post_answer(user_client, first.pk, qid, correct_ids(qid)).status_code == 201
    practice_statements = [q["sql"] for q in fresh.captured_queries if '"practice_' in q["sql"]]
    # One read (the session under its lock, with the question, its options, whether it is
    # already answered and the review card), one write (the attempt, the session's counters
    # and the card).
    assert len(practice_statements) == 2, practice_statements


def test_summary_query_count_is_fixed(
    user: User, user_client: APIClient, bank: Bank, django_assert_max_num_queries: Any
) -> None:
    with CaptureQueriesContext(connection) as empty:
        user_client.get("/api/v1/practice/summary")
    for _ in range(3):
        s = start_session(user, count=5)
        for qid in s.question_ids:
            answer(user, s, qid, right=True)
    with django_assert_max_num_queries(len(empty.captured_queries)):
        rows = user_client.get("/api/v1/practice/summary").json()
    assert sum(r["answered"] for r in rows) == 15


# --- Summary -------------------------------------------------------------------------------


def test_summary_lists_every_active_category(
    user: User, user_client: APIClient, bank: Bank
) -> None:
    session = start_session(user, count=10)
    physiology_ids = {q.pk for q in bank.physiology_questions}
    for qid in session.question_ids:
        if qid in physiology_ids:
            answer(user, session, qid, right=len(physiology_ids) > 0)
            physiology_ids.discard(qid)
            if len(physiology_ids) == 1:
                break
    CategoryFactory(name="Zoology", slug="zoology", order=9)
    rows = user_client.get("/api/v1/practice/summary").json()
    by_slug = {r["category_slug"]: r for r in rows}
    assert list(by_slug) == ["anatomy-embryology", "physiology", "zoology"]
    assert by_slug["physiology"]["answered"] == 3
    assert by_slug["physiology"]["correct"] == 3
    assert by_slug["physiology"]["score_percent"] == 100
    assert by_slug["physiology"]["last_practiced_at"] is not None
    assert by_slug["zoology"] == {
        "category": "Zoology",
        "category_slug": "zoology",
        "answered": 0,
        "correct": 0,
        "score_percent": None,
        "last_practiced_at": None,
    }


# --- Flags and notes -----------------------------------------------------------------------

FLAGS = "/api/v1/practice/flags"


def test_flag_upsert_list_and_delete(
    user_client: APIClient, other_client: APIClient, bank: Bank
) -> None:
    question = bank.anatomy_questions[0]
    created = user_client.post(
        FLAGS, {"question_id": question.pk, "note": "Revise the brachial plexus"}, format="json"
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["question_id"], body["is_flagged"], body["note"]) == (
        question.pk,
        True,
        "Revise the brachial plexus",
    )
    assert body["question"]["category"] == {
        "slug": "anatomy-embryology",
        "name": "Anatomy & Embryology",
    }

    updated = user_client.post(
        FLAGS, {"question_id": question.pk, "is_flagged": False}, format="json"
    )
    assert updated.status_code == 200
    assert updated.json()["is_flagged"] is False
    assert updated.json()["note"] == "Revise the brachial plexus"
    assert QuestionFlag.objects.count() == 1

    user_client.post(FLAGS, {"question_id": bank.anatomy_questions[1].pk}, format="json")
    listing = user_client.get(FLAGS).json()
    assert listing["count"] == 2
    flagged_only = user_client.get(FLAGS, {"is_flagged": "true"}).json()
    assert [f["question_id"] for f in flagged_only["results"]] == [bank.anatomy_questions[1].pk]
    assert user_client.get(f"{FLAGS}/{question.pk}").json()["note"] == "Revise the brachial plexus"

    # Notes are private: another user sees none of it and cannot touch it.
    assert other_client.get(FLAGS).json()["count"] == 0
    assert_error(other_client.get(f"{FLAGS}/{question.pk}"), 404, "not_found")
    assert_error(other_client.delete(f"{FLAGS}/{question.pk}"), 404, "not_found")

    assert user_client.delete(f"{FLAGS}/{question.pk}").status_code == 204
    assert_error(user_client.delete(f"{FLAGS}/{question.pk}"), 404, "not_found")
    assert QuestionFlag.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"question_id": 999_999}, "question_id"),
        ({"question_id": "draft"}, "question_id"),
        ({}, "question_id"),
        ({"note": "x" * 2001}, "note"),
        ({"is_flagged": "maybe"}, "is_flagged"),
    ],
)
def test_flag_bad_input(
    user_client: APIClient, bank: Bank, payload: dict[str, Any], field: str
) -> None:
    draft = make_question(bank.anatomy, status=QuestionStatus.DRAFT)
    body = {"question_id": bank.anatomy_questions[0].pk, **payload}
    if payload.get("question_id") == "draft":
        body["question_id"] = draft.pk
    if not payload:
        del body["question_id"]
    response = user_client.post(FLAGS, body, format="json")
    assert_error(response, 400, "validation_error", field)
    assert QuestionFlag.objects.count() == 0


def test_flag_list_query_count(
    user: User, user_client: APIClient, bank: Bank, django_assert_max_num_queries: Any
) -> None:
    QuestionFlag.objects.create(user=user, question=bank.all_questions[0])
    with CaptureQueriesContext(connection) as one:
        user_client.get(FLAGS)
    for question in bank.all_questions[1:]:
        QuestionFlag.objects.create(user=user, question=question, note="n")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert user_client.get(FLAGS).json()["count"] == 10


def test_flagged_mode_practises_only_flagged_questions(user_client: APIClient, bank: Bank) -> None:
    chosen = [bank.anatomy_questions[3].pk, bank.physiology_questions[1].pk]
    for qid in chosen:
        user_client.post(FLAGS, {"question_id": qid}, format="json")
    user_client.post(
        FLAGS, {"question_id": bank.anatomy_questions[0].pk, "is_flagged": False}, format="json"
    )
    body = user_client.post(
        SESSIONS, {"mode": "flagged", "question_count": 10}, format="json"
    ).json()
    assert sorted(body["question_ids"]) == sorted(chosen)
    assert body["config"]["mode"] == "flagged"


# --- Reports -------------------------------------------------------------------------------

REPORTS = "/api/v1/practice/reports"


def test_report_a_question(user: User, user_client: APIClient, bank: Bank) -> None:
    question = bank.anatomy_questions[0]
    response = user_client.post(
        REPORTS,
        {"question_id": question.pk, "reason": "incorrect_answer", "message": "B is right"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["question_id"], body["reason"], body["status"]) == (
        question.pk,
        "incorrect_answer",
        "open",
    )
    report = QuestionReport.objects.get()
    assert (report.user, report.message) == (user, "B is right")

    again = user_client.post(REPORTS, {"question_id": question.pk, "reason": "typo"}, format="json")
    assert_error(again, 409, "already_reported")
    assert QuestionReport.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reason": "boring"}, "reason"),
        ({"reason": None}, "reason"),
        ({"reason": "other"}, "message"),
        ({"reason": "other", "message": "   "}, "message"),
        ({"reason": "typo", "message": "x" * 2001}, "message"),
        ({"reason": "typo", "question_id": 999_999}, "question_id"),
    ],
)
def test_report_bad_input(
    user_client: APIClient, bank: Bank, payload: dict[str, Any], field: str
) -> None:
    body = {"question_id": bank.anatomy_questions[0].pk, **payload}
    response = user_client.post(REPORTS, body, format="json")
    assert_error(response, 400, "validation_error", field)
    assert QuestionReport.objects.count() == 0


# --- Schema --------------------------------------------------------------------------------


def test_schema_documents_the_practice_endpoints(api_client: APIClient) -> None:
    schema = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for path in [
        "/api/v1/practice/sessions",
        "/api/v1/practice/sessions/{session_id}",
        "/api/v1/practice/sessions/{session_id}/questions",
        "/api/v1/practice/sessions/{session_id}/attempts",
        "/api/v1/practice/sessions/{session_id}/complete",
        "/api/v1/practice/summary",
        "/api/v1/practice/flags",
        "/api/v1/practice/flags/{question_id}",
        "/api/v1/practice/reports",
    ]:
        assert path in paths, path
    create = paths["/api/v1/practice/sessions"]["post"]
    assert "is_short" in create["description"]
    assert {"201", "400", "409"} <= set(create["responses"])
    session_schema = schema["components"]["schemas"]["PracticeSession"]["properties"]
    assert {"is_short", "requested_count", "available_count"} <= set(session_schema)


def test_flow_with_a_token_from_the_login_endpoint(api_client: APIClient, bank: Bank) -> None:
    user = UserFactory(password="a long enough passphrase 42")
    tokens = api_client.post(
        "/api/v1/auth/login",
        {"email": user.email, "password": "a long enough passphrase 42"},
        format="json",
    )
    assert tokens.status_code == 200, tokens.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    created = api_client.post(SESSIONS, {"question_count": 1}, format="json")
    assert created.status_code == 201
    qid = created.json()["question_ids"][0]
    feedback = post_answer(api_client, created.json()["id"], qid, correct_ids(qid))
    assert feedback.json()["is_correct"] is True
    assert api_client.post(session_url(created.json()["id"], "/complete")).json()["correct"] == 1


def test_admin_pages_render_for_staff(admin_user: User, bank: Bank) -> None:
    from django.test import Client

    session = start_session(admin_user, count=2)
    answer(admin_user, session, session.question_ids[0], right=True)
    QuestionFlag.objects.create(user=admin_user, question=bank.anatomy_questions[0], note="n")
    QuestionReport.objects.create(
        user=admin_user, question=bank.anatomy_questions[0], reason="typo"
    )
    client = Client()
    client.force_login(admin_user)
    for path in [
        "/admin/practice/practicesession/",
        f"/admin/practice/practicesession/{session.pk}/change/",
        "/admin/practice/practiceattempt/",
        "/admin/practice/questionflag/",
        "/admin/practice/questionreport/",
        "/admin/practice/questionreport/?status__exact=open",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
