"""Spaced repetition: practice answers review FSRS cards, the `due` mode and the review queue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fsrs import Card, State
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apps.accounts.models import Profile, User
from apps.core.exceptions import ValidationFailed
from apps.practice import selectors, services
from apps.practice.models import PracticeMode, ReviewCard
from apps.practice.services import answering
from apps.practice.spaced_repetition import STEP, review
from apps.questions.models import Question, QuestionStatus
from tests.conftest import client_for
from tests.practice.conftest import Bank, answer, correct_ids, start_session

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SESSIONS = "/api/v1/practice/sessions"
QUEUE = "/api/v1/practice/review-queue"


def card_of(user: User, question: Question | int) -> ReviewCard:
    qid = question if isinstance(question, int) else question.pk
    return ReviewCard.objects.get(user=user, question_id=qid)


def answer_at(user: User, at: datetime, answers: list[tuple[int, bool]]) -> None:
    """Answers the given questions (right or wrong) in one session, with the clock at ``at``."""
    with time_machine.travel(at, tick=False):
        session = start_session(user, count=len(answers))
        # A fresh session draws at random; answer in a session that holds exactly these.
        session.question_ids = [qid for qid, _ in answers]
        session.save(update_fields=["question_ids"])
        for qid, right in answers:
            answer(user, session, qid, right=right)


@contextmanager
def clock_at(moment: datetime, user: User) -> Iterator[APIClient]:
    """The clock stopped at ``moment``, with a client authenticated then (a token issued at
    another time would not be valid yet, or no longer)."""
    with time_machine.travel(moment, tick=False):
        yield client_for(user)


def put_card(user: User, question: Question, due: datetime) -> ReviewCard:
    """A card due at ``due``, as a review made a day earlier would leave it."""
    state = Card(card_id=question.pk, due=due).to_dict()
    return ReviewCard.objects.create(
        user=user, question=question, state=dict(state), due=due, reps=1
    )


# --- An answer reviews the card ------------------------------------------------------------


def test_a_right_answer_schedules_the_card_days_ahead(user: User, bank: Bank) -> None:
    qid = bank.anatomy_questions[0].pk
    answer_at(user, T0, [(qid, True)])
    card = card_of(user, qid)
    assert card.due >= T0 + timedelta(days=1)
    assert card.last_review_at == T0
    assert (card.reps, card.lapses) == (1, 0)
    stored = Card.from_dict(card.state)
    assert stored.due == card.due
    assert stored.state == State.Review
    with time_machine.travel(T0 + timedelta(hours=12), tick=False):
        assert selectors.due_question_ids(user_id=user.pk) == []
    with time_machine.travel(card.due, tick=False):
        assert selectors.due_question_ids(user_id=user.pk) == [qid]


def test_a_wrong_answer_keeps_the_card_due_soon(user: User, bank: Bank) -> None:
    qid = bank.anatomy_questions[0].pk
    answer_at(user, T0, [(qid, False)])
    card = card_of(user, qid)
    assert card.due == T0 + STEP
    assert (card.reps, card.lapses) == (1, 0)  # never learned, so not a lapse
    with time_machine.travel(T0 + STEP - timedelta(seconds=1), tick=False):
        assert selectors.due_question_ids(user_id=user.pk) == []
    with time_machine.travel(T0 + STEP, tick=False):
        assert selectors.due_question_ids(user_id=user.pk) == [qid]


def test_forgetting_a_learned_card_is_a_lapse_and_brings_it_back_soon(
    user: User, bank: Bank
) -> None:
    qid = bank.anatomy_questions[0].pk
    answer_at(user, T0, [(qid, True)])
    first_due = card_of(user, qid).due
    answer_at(user, first_due, [(qid, False)])
    card = card_of(user, qid)
    assert (card.reps, card.lapses) == (2, 1)
    assert card.due == first_due + STEP
    # Relearnt: right again, it goes back out, though less far than a fresh card's first gap.
    answer_at(user, card.due, [(qid, True)])
    relearnt = card_of(user, qid)
    assert (relearnt.reps, relearnt.lapses) == (3, 1)
    assert relearnt.due > card.due + timedelta(hours=12)


def test_a_second_right_answer_pushes_the_card_further(user: User, bank: Bank) -> None:
    qid = bank.anatomy_questions[0].pk
    answer_at(user, T0, [(qid, True)])
    first = card_of(user, qid)
    answer_at(user, first.due, [(qid, True)])
    second = card_of(user, qid)
    assert second.due - first.due > first.due - T0
    assert second.reps == 2


def test_a_refused_answer_leaves_the_card_alone(user: User, bank: Bank) -> None:
    session = start_session(user, count=3)
    qid = session.question_ids[0]
    with pytest.raises(ValidationFailed):
        services.record_practice_answer(
            user=user, session_id=session.pk, question_id=qid, selected_option_ids=[]
        )
    assert not ReviewCard.objects.exists()


@given(answers=st.lists(st.booleans(), min_size=1, max_size=12))
def test_any_run_of_answers_keeps_the_card_consistent(answers: list[bool]) -> None:
    """Whatever the run of answers (each made when the card falls due), the card is due after
    its last review, a wrong answer always brings it back within the step, and it round-trips
    through its stored form."""
    state: dict[str, Any] | None = None
    at = T0
    for right in answers:
        reviewed = review(state=state, card_id=7, is_correct=right, at=at)
        assert reviewed.due > at
        assert reviewed.last_review_at == at
        if not right:
            assert reviewed.due == at + STEP
        assert Card.from_dict(reviewed.state).due == reviewed.due
        state, at = reviewed.state, reviewed.due


def test_the_review_takes_any_timezone_and_stores_utc(bank: Bank) -> None:
    from zoneinfo import ZoneInfo

    local = T0.astimezone(ZoneInfo("Europe/London"))
    reviewed = review(state=None, card_id=1, is_correct=False, at=local)
    assert reviewed.due == T0 + STEP
    assert reviewed.state["due"].endswith("+00:00")


def test_a_card_reviewed_between_the_read_and_the_write_is_reviewed_again_under_its_lock(
    user: User, bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering reads the card without a lock and writes it only if it is still as read; when
    another answer reviewed it in between (another of the user's sessions), the review is made
    again on the card as it now is, so both count."""
    qid = bank.anatomy_questions[0].pk
    answer_at(user, T0, [(qid, True)])
    read = answering._answer_context

    def read_then_another_session_reviews(**kwargs: Any) -> Any:
        found = read(**kwargs)
        card = card_of(user, qid)
        ReviewCard.objects.filter(pk=card.pk).update(reps=card.reps + 1)
        return found

    monkeypatch.setattr(answering, "_answer_context", read_then_another_session_reviews)
    later = T0 + timedelta(days=30)
    answer_at(user, later, [(qid, False)])
    card = card_of(user, qid)
    assert card.reps == 3  # the first answer, the one in between, this one
    assert card.last_review_at == later
    assert card.due == Card.from_dict(card.state).due


# --- The due mode --------------------------------------------------------------------------


def due_session(client: APIClient, count: int = 20, **extra: Any) -> Any:
    return client.post(SESSIONS, {"mode": "due", "question_count": count, **extra}, format="json")


def test_due_mode_draws_only_due_cards_most_overdue_first(user: User, bank: Bank) -> None:
    a, b, c, d = (q.pk for q in bank.anatomy_questions[:4])
    answer_at(user, T0, [(b, False)])
    answer_at(user, T0 + timedelta(minutes=1), [(a, False)])
    answer_at(user, T0 + timedelta(minutes=2), [(c, True)])  # due in days
    answer_at(user, T0 + timedelta(minutes=3), [(d, False)])  # due at 09:13
    with clock_at(T0 + timedelta(minutes=12), user) as client:
        response = due_session(client)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["question_ids"] == [b, a]
        assert body["config"]["mode"] == "due"
        assert body["available_count"] == 2
        assert body["is_short"] is True
        limited = due_session(client, count=1).json()
        assert limited["question_ids"] == [b]
        assert limited["is_short"] is False
    with clock_at(T0 + timedelta(days=30), user) as client:
        assert due_session(client).json()["question_ids"] == [b, a, d, c]


def test_due_mode_respects_categories_and_skips_withdrawn_questions(user: User, bank: Bank) -> None:
    anatomy = bank.anatomy_questions[0]
    withdrawn = bank.anatomy_questions[1]
    physiology = bank.physiology_questions[0]
    for i, q in enumerate([anatomy, withdrawn, physiology]):
        put_card(user, q, T0 - timedelta(hours=3 - i))
    Question.objects.filter(pk=withdrawn.pk).update(status=QuestionStatus.RETIRED)
    with clock_at(T0, user) as client:
        assert due_session(client).json()["question_ids"] == [anatomy.pk, physiology.pk]
        only = due_session(client, categories=["physiology"]).json()
        assert only["question_ids"] == [physiology.pk]
        queue = client.get(QUEUE).json()
    assert queue["due_now"] == 2  # the withdrawn question's card is not counted


def test_due_mode_with_nothing_due_is_the_no_questions_conflict(
    user: User, user_client: APIClient, bank: Bank
) -> None:
    response = due_session(user_client)
    assert response.status_code == 409
    assert response.json()["code"] == "no_questions"
    answer_at(user, T0, [(bank.anatomy_questions[0].pk, True)])
    with clock_at(T0 + timedelta(hours=1), user) as client:
        response = due_session(client)
    assert response.status_code == 409
    assert response.json()["code"] == "no_questions"


def test_a_due_session_is_answered_like_any_other(user: User, bank: Bank) -> None:
    qid = bank.anatomy_questions[0].pk
    answer_at(user, T0, [(qid, False)])
    with clock_at(T0 + timedelta(hours=1), user) as client:
        session_id = due_session(client).json()["id"]
        response = client.post(
            f"{SESSIONS}/{session_id}/attempts",
            {"question_id": qid, "selected_option_ids": correct_ids(qid)},
            format="json",
        )
        assert response.status_code == 201, response.content
    card = card_of(user, qid)
    assert card.reps == 2
    assert card.due > T0 + timedelta(days=1)


def test_an_unknown_mode_is_refused(user_client: APIClient, bank: Bank) -> None:
    response = user_client.post(SESSIONS, {"mode": "overdue"}, format="json")
    assert response.status_code == 400
    assert "mode" in response.json()["fields"]


# --- The review queue ----------------------------------------------------------------------


def set_timezone(user: User, name: str) -> None:
    Profile.objects.filter(user=user).update(timezone=name)


@pytest.mark.parametrize(
    ("zone", "later_today"),
    [
        # 09:00 UTC is 22:00 in Auckland (UTC+13): its day ends at 11:00 UTC, so only the
        # 10:30 card is due later today.
        ("Pacific/Auckland", 1),
        # In UTC the day ends at midnight: the 12:00 card is due today too.
        ("UTC", 2),
        # In Los Angeles (UTC-8) it is 01:00; the day ends at 08:00 UTC the next day, after
        # the 05:00 card.
        ("America/Los_Angeles", 3),
        # An unknown name falls back to UTC.
        ("Mars/Olympus_Mons", 2),
    ],
)
def test_review_queue_counts_in_the_users_timezone(
    user: User, bank: Bank, zone: str, later_today: int
) -> None:
    set_timezone(user, zone)
    qs = bank.anatomy_questions
    put_card(user, qs[0], T0 - timedelta(days=2))
    put_card(user, qs[1], T0)  # due exactly now: due
    put_card(user, qs[2], T0 + timedelta(hours=1, minutes=30))
    put_card(user, qs[3], T0 + timedelta(hours=3))
    put_card(user, qs[4], T0 + timedelta(hours=20))
    put_card(user, qs[5], T0 + timedelta(days=3))
    with time_machine.travel(T0, tick=False):
        body = client_for(User.objects.get(pk=user.pk)).get(QUEUE).json()
    assert body == {
        "due_now": 2,
        "due_today": 2 + later_today,
        "next_due_at": "2026-11-26T10:30:00Z",
    }


def test_review_queue_is_empty_without_cards(user_client: APIClient, bank: Bank) -> None:
    body = user_client.get(QUEUE).json()
    assert body == {"due_now": 0, "due_today": 0, "next_due_at": None}


def test_review_queue_next_due_is_null_when_everything_is_due(user: User, bank: Bank) -> None:
    put_card(user, bank.anatomy_questions[0], T0 - timedelta(hours=1))
    with clock_at(T0, user) as client:
        body = client.get(QUEUE).json()
    assert body == {"due_now": 1, "due_today": 1, "next_due_at": None}


def test_review_queue_follows_the_answers(user: User, bank: Bank) -> None:
    a, b = bank.anatomy_questions[0].pk, bank.anatomy_questions[1].pk
    answer_at(user, T0, [(a, False), (b, True)])
    with clock_at(T0 + timedelta(minutes=5), user) as client:
        body = client.get(QUEUE).json()
    assert body["due_now"] == 0
    assert body["due_today"] == 1
    assert body["next_due_at"] == "2026-11-26T09:10:00Z"


def test_review_queue_requires_authentication(api_client: APIClient) -> None:
    response = api_client.get(QUEUE)
    assert response.status_code == 401
    assert response.json()["code"]


def test_review_queue_query_count_does_not_grow_with_the_cards(
    user: User, user_client: APIClient, bank: Bank, django_assert_max_num_queries: Any
) -> None:
    put_card(user, bank.anatomy_questions[0], T0 - timedelta(hours=1))
    with CaptureQueriesContext(connection) as one:
        assert user_client.get(QUEUE).json()["due_now"] == 1
    for i, q in enumerate(bank.all_questions[1:]):
        put_card(user, q, T0 - timedelta(minutes=i))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert user_client.get(QUEUE).json()["due_now"] == len(bank.all_questions)
    queue_statements = [q for q in one.captured_queries if "practice_reviewcard" in q["sql"]]
    assert len(queue_statements) == 1


def test_answer_statement_count_is_the_same_for_a_new_and_a_known_card(
    user: User, user_client: APIClient, bank: Bank
) -> None:
    qid, other = bank.anatomy_questions[0].pk, bank.anatomy_questions[1].pk
    answer_at(user, T0, [(qid, False)])
    session = start_session(user, count=2)
    session.question_ids = [other, qid]
    session.save(update_fields=["question_ids"])
    url = f"{SESSIONS}/{session.pk}/attempts"
    with CaptureQueriesContext(connection) as new_card:
        user_client.post(url, {"question_id": other, "selected_option_ids": correct_ids(other)})
    with CaptureQueriesContext(connection) as known_card:
        user_client.post(url, {"question_id": qid, "selected_option_ids": correct_ids(qid)})
    assert card_of(user, qid).reps == 2
    assert card_of(user, other).reps == 1
    assert len(known_card.captured_queries) == len(new_card.captured_queries)


# --- Privacy -------------------------------------------------------------------------------


def test_other_users_cards_never_leak(user: User, other_user: User, bank: Bank) -> None:
    answer_at(other_user, T0, [(q.pk, False) for q in bank.anatomy_questions[:3]])
    with clock_at(T0 + timedelta(hours=1), user) as client:
        assert client.get(QUEUE).json() == {
            "due_now": 0,
            "due_today": 0,
            "next_due_at": None,
        }
        assert due_session(client).status_code == 409
        assert selectors.practice_pool(user_id=user.pk, mode=PracticeMode.DUE) == []
        theirs = client_for(other_user).get(QUEUE).json()
    assert theirs["due_now"] == 3
    assert selectors.personal_data(user_id=user.pk)["review_cards"] == []
    # My answer to the same question makes my own card and leaves theirs as it was.
    before = card_of(other_user, bank.anatomy_questions[0])
    answer_at(user, T0 + timedelta(hours=2), [(bank.anatomy_questions[0].pk, True)])
    after = card_of(other_user, bank.anatomy_questions[0])
    assert (after.due, after.reps, after.state) == (before.due, before.reps, before.state)
    assert card_of(user, bank.anatomy_questions[0]).reps == 1


def test_personal_data_includes_the_cards(user: User, bank: Bank) -> None:
    a, b = bank.anatomy_questions[0].pk, bank.anatomy_questions[1].pk
    answer_at(user, T0, [(a, True), (b, False)])
    cards = selectors.personal_data(user_id=user.pk)["review_cards"]
    assert [c["question_id"] for c in cards] == [a, b]
    wrong = cards[1]
    assert wrong["due"] == (T0 + STEP).isoformat()
    assert wrong["last_review_at"] == T0.isoformat()
    assert (wrong["reps"], wrong["lapses"]) == (1, 0)
    assert wrong["state"]["due"] == (T0 + STEP).isoformat()
    assert wrong["state"]["state"] == State.Learning.value


def test_personal_data_export_through_the_api_carries_the_cards(user: User, bank: Bank) -> None:
    answer_at(user, T0, [(bank.anatomy_questions[0].pk, True)])
    response = client_for(user).get("/api/v1/me/export")
    assert response.status_code == 200, response.content
    cards = response.json()["practice"]["review_cards"]
    assert [c["question_id"] for c in cards] == [bank.anatomy_questions[0].pk]


# --- Exams are assessments ----------------------------------------------------------------


def test_exam_answers_do_not_review_cards(user: User) -> None:
    from apps.exams.services.answering import AnswerInput, save_exam_answers
    from apps.exams.services.scoring import submit_exam_session
    from apps.exams.services.starting import start_exam_session
    from tests.exams.factories import blueprint_template, make_bank

    first, second = make_bank(categories=2, per_category=3)
    template = blueprint_template({first: 2, second: 2}, duration_minutes=30)
    session = start_exam_session(user=user, template_id=template.id).session
    save_exam_answers(
        user=user,
        session_id=session.id,
        answers=[AnswerInput(qid, correct_ids(qid)) for qid in session.question_ids],
    )
    assert submit_exam_session(session_id=session.id, user=user).answered == 4
    assert not ReviewCard.objects.filter(user=user).exists()


# --- Schema and admin ----------------------------------------------------------------------


def test_schema_documents_the_due_mode_and_the_queue(api_client: APIClient) -> None:
    schema = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    queue = schema["paths"]["/api/v1/practice/review-queue"]["get"]
    assert {"200", "401"} <= set(queue["responses"])
    props = schema["components"]["schemas"]["PracticeReviewQueue"]["properties"]
    assert set(props) == {"due_now", "due_today", "next_due_at"}
    modes = schema["components"]["schemas"]["ModeEnum"]["enum"]
    assert "due" in modes


def test_admin_lists_the_cards(admin_user: User, bank: Bank) -> None:
    from django.test import Client

    card = put_card(admin_user, bank.anatomy_questions[0], T0)
    client = Client()
    client.force_login(admin_user)
    assert client.get("/admin/practice/reviewcard/").status_code == 200
    assert client.get(f"/admin/practice/reviewcard/{card.pk}/change/").status_code == 200
