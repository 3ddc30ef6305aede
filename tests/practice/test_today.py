"""The ``today`` mode and the day's counts: due reviews first, then new questions, within the
daily limits of the candidate's own day; the scheduler at the candidate's desired retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fsrs import Card

from apps.accounts.models import Profile, User
from apps.practice import selectors, services
from apps.practice.exceptions import NothingDueToday
from apps.practice.models import PracticeMode, PracticeSession, ReviewCard
from apps.practice.spaced_repetition import review, scheduler_for
from apps.questions.models import Question
from tests.accounts.factories import UserFactory
from tests.conftest import client_for
from tests.exams.factories import fixed_template
from tests.practice.conftest import Bank, answer

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/practice/sessions"
# 10:30 UTC on 4 December is 10:30 the same day in London and 23:30 in Auckland (UTC+13).
BEFORE_AUCKLAND_MIDNIGHT = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
AFTER_AUCKLAND_MIDNIGHT = datetime(2026, 12, 4, 11, 30, tzinfo=UTC)


def candidate(**profile: Any) -> User:
    user = UserFactory()
    Profile.objects.filter(user=user).update(**profile)
    return User.objects.select_related("profile").get(pk=user.pk)


def put_due(user: User, question: Question, due: datetime) -> None:
    """A card reviewed a few days before ``due`` and due then."""
    state = Card(card_id=question.pk, due=due).to_dict()
    ReviewCard.objects.create(
        user=user,
        question=question,
        state=dict(state),
        due=due,
        reps=1,
        created_at=due - timedelta(days=5),
    )


def today(user: User, **kwargs: Any) -> PracticeSession:
    return services.create_practice_session(
        user=user, question_count=kwargs.pop("count", None), mode=PracticeMode.TODAY, **kwargs
    )


def answer_all(user: User, session: PracticeSession, *, right: bool = True) -> None:
    for qid in session.question_ids:
        answer(user, session, qid, right=right)


# --- The scheduler at the candidate's retention ----------------------------------------------


@pytest.mark.parametrize(("retention", "days"), [(0.97, 1), (0.92, 2)])
def test_an_answer_schedules_at_the_candidates_desired_retention(
    bank: Bank, retention: float, days: int
) -> None:
    user = candidate(desired_retention=retention)
    qid = bank.anatomy_questions[0].pk
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        session = services.create_practice_session(user=user, question_count=10)
        answer(user, session, qid, right=True)
    card = ReviewCard.objects.get(user=user, question_id=qid)
    # Below 2.5 days FSRS does not fuzz: the interval is exactly the retention's.
    assert card.due - BEFORE_AUCKLAND_MIDNIGHT == timedelta(days=days)


def test_higher_retention_gives_shorter_intervals() -> None:
    at = BEFORE_AUCKLAND_MIDNIGHT
    intervals = []
    for retention in (0.80, 0.92, 0.97):
        first = review(
            state=None,
            card_id=1,
            is_correct=True,
            at=at,
            scheduler=scheduler_for(desired_retention=retention),
        )
        intervals.append(first.due - at)
    assert intervals[0] > intervals[1] > intervals[2]


def test_weights_of_another_length_fall_back_to_the_defaults() -> None:
    assert scheduler_for(parameters=[1.0, 2.0]) is scheduler_for()
    assert scheduler_for(parameters=None, desired_retention=None).desired_retention == 0.92


# --- The today mode ----------------------------------------------------------------------------


def test_due_reviews_come_first_most_overdue_first_then_new(bank: Bank) -> None:
    user = candidate(daily_new_limit=3)
    a, b, c = bank.anatomy_questions[:3]
    now = BEFORE_AUCKLAND_MIDNIGHT
    put_due(user, a, now - timedelta(hours=1))
    put_due(user, b, now - timedelta(days=2))
    put_due(user, c, now + timedelta(hours=1))  # not due yet
    with time_machine.travel(now, tick=False):
        session = today(user)
    assert session.question_ids[:2] == [b.pk, a.pk]
    new = session.question_ids[2:]
    assert len(new) == 3
    seen = {a.pk, b.pk, c.pk}
    assert not seen & set(new)
    assert session.config["mode"] == "today"
    assert (session.config["reviews"], session.config["new"]) == (2, 3)


def test_the_review_limit_caps_the_reviews(bank: Bank) -> None:
    user = candidate(daily_review_limit=2, daily_new_limit=0)
    now = BEFORE_AUCKLAND_MIDNIGHT
    for i, q in enumerate(bank.anatomy_questions[:4]):
        put_due(user, q, now - timedelta(days=i + 1))
    with time_machine.travel(now, tick=False):
        session = today(user)
        # The two most overdue.
        assert session.question_ids == [bank.anatomy_questions[3].pk, bank.anatomy_questions[2].pk]
        answer_all(user, session)
        with pytest.raises(NothingDueToday):
            today(user)
        counts = selectors.today_counts(user=user)
    assert (counts.reviews_done, counts.reviews_due, counts.reviews_remaining) == (2, 2, 0)


def test_question_count_caps_the_session(bank: Bank) -> None:
    user = candidate(daily_new_limit=5)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        session = today(user, count=2)
    assert len(session.question_ids) == 2
    assert session.requested_count == 2


@pytest.mark.parametrize(
    ("zone", "new_after_midnight"), [("Pacific/Auckland", 2), ("Europe/London", 0)]
)
def test_the_new_limit_is_counted_per_local_day(
    bank: Bank, zone: str, new_after_midnight: int
) -> None:
    user = candidate(timezone=zone, daily_new_limit=2)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        session = today(user)
        assert len(session.question_ids) == 2
        answer_all(user, session)
        with pytest.raises(NothingDueToday):
            today(user)
    # An hour later: a new day in Auckland, the same day in London.
    with time_machine.travel(AFTER_AUCKLAND_MIDNIGHT, tick=False):
        counts = selectors.today_counts(user=user)
        assert counts.new_done == (0 if new_after_midnight else 2)
        assert counts.new_remaining == new_after_midnight
        if new_after_midnight:
            assert len(today(user).question_ids) == new_after_midnight
        else:
            with pytest.raises(NothingDueToday):
                today(user)


def test_a_wrong_answers_repeat_counts_as_a_review(bank: Bank) -> None:
    user = candidate(daily_new_limit=1, daily_review_limit=5)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False) as clock:
        first = today(user)
        answer_all(user, first, right=False)
        clock.shift(timedelta(minutes=11))  # the 10-minute relearning step has passed
        again = today(user)
        assert again.question_ids == first.question_ids
        answer_all(user, again, right=True)
        counts = selectors.today_counts(user=user)
    assert (counts.new_done, counts.reviews_done) == (1, 1)


def test_a_new_today_session_completes_the_earlier_open_one(bank: Bank) -> None:
    user = candidate(daily_new_limit=4)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        first = today(user)
        answer(user, first, first.question_ids[0], right=True)
        second = today(user)
    first.refresh_from_db()
    assert first.completed_at is not None
    assert second.completed_at is None
    # The budget is not handed out twice: one new question was answered, three are left.
    assert len(second.question_ids) == 3
    assert first.question_ids[0] not in second.question_ids


def test_free_practice_counts_towards_the_day_but_is_never_refused(bank: Bank) -> None:
    user = candidate(daily_new_limit=1)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        free = services.create_practice_session(user=user, question_count=3)
        answer_all(user, free)
        counts = selectors.today_counts(user=user)
        assert (counts.new_done, counts.new_remaining) == (3, 0)
        with pytest.raises(NothingDueToday):
            today(user)


def test_questions_held_out_by_an_open_exam_are_left_out(bank: Bank) -> None:
    from apps.exams.services import start_exam_session

    user = candidate(daily_new_limit=20)
    held = bank.anatomy_questions[:3]
    put_due(user, held[0], BEFORE_AUCKLAND_MIDNIGHT - timedelta(days=1))
    template = fixed_template(held, name="Mock")
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        start_exam_session(user=user, template_id=template.pk)
        session = today(user)
        counts = selectors.today_counts(user=user)
    assert not {q.pk for q in held} & set(session.question_ids)
    assert counts.reviews_due == 0
    assert counts.new_available == len(bank.all_questions) - 3


def test_nothing_left_is_a_409_with_its_code(bank: Bank) -> None:
    user = candidate(daily_new_limit=0)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        response = client_for(user).post(SESSIONS, {"mode": "today"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_due_today"
    assert not PracticeSession.objects.filter(user=user).exists()


def test_today_through_the_api(bank: Bank) -> None:
    user = candidate(daily_new_limit=3)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        response = client_for(user).post(SESSIONS, {"mode": "today"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["question_count"] == 3
    assert body["is_short"] is False


@pytest.mark.parametrize(
    "payload",
    [
        {"mode": "today", "question_count": 0},
        {"mode": "today", "question_count": 101},
        {"mode": "today", "categories": ["no-such-category"]},
        {"mode": "tomorrow"},
        {"mode": "today", "limit": 5},
    ],
)
def test_bad_today_requests_are_400_and_write_nothing(bank: Bank, payload: dict[str, Any]) -> None:
    user = candidate()
    response = client_for(user).post(SESSIONS, payload, format="json")
    assert response.status_code == 400, response.content
    assert "fields" in response.json()
    assert not PracticeSession.objects.filter(user=user).exists()


def test_today_needs_authentication(api_client: Any) -> None:
    assert api_client.post(SESSIONS, {"mode": "today"}, format="json").status_code == 401


def test_today_counts_cost_a_fixed_number_of_queries(
    bank: Bank, django_assert_max_num_queries: Any
) -> None:
    user = candidate(daily_new_limit=20)
    with time_machine.travel(BEFORE_AUCKLAND_MIDNIGHT, tick=False):
        answer_all(user, today(user))
        # The open exams' questions, the cards, the bank, the day's answers, its new cards.
        with django_assert_max_num_queries(5):
            counts = selectors.today_counts(user=user)
    assert counts.new_done == len(bank.all_questions)


@pytest.mark.django_db(transaction=True)
def test_concurrent_today_sessions_leave_one_open(bank: Bank) -> None:
    from tests.practice.test_services import _run_together

    user = candidate(daily_new_limit=4)
    results = _run_together([lambda: today(user) for _ in range(4)])
    assert all(isinstance(r, PracticeSession) for r in results), results
    # Serialised on the user's row: each start completed the one before, so one is open and
    # the day's budget is handed out once.
    open_sessions = PracticeSession.objects.filter(user=user, completed_at__isnull=True)
    assert open_sessions.count() == 1
    assert len(open_sessions.get().question_ids) == 4
