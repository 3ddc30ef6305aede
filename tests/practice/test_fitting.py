"""Per-candidate FSRS weights: fitted from enough reviews, refitted only with more, used by the
next answer; the defaults otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from apps.accounts.models import User
from apps.core import sql
from apps.practice import statements
from apps.practice.models import PracticeAttempt, PracticeSession, ReviewCard, SchedulerParameters
from apps.practice.services import fit_scheduler_parameters, learners_to_fit
from apps.practice.services.fitting import MIN_REVIEWS_TO_FIT, training_items
from apps.practice.spaced_repetition import DEFAULT_PARAMETERS
from apps.practice.tasks import fit_scheduler_parameters_task
from apps.questions.models import Question
from tests.accounts.factories import UserFactory
from tests.practice.conftest import Bank, answer, start_session
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def reviews(user: User, questions: list[Question], rounds: int) -> None:
    """``rounds`` practice sessions a few days apart, each answering every question (about one
    in five wrongly), written in bulk."""
    for r in range(rounds):
        at = START + timedelta(days=3 * r)
        session = PracticeSession.objects.create(
            user=user,
            seed=r,
            question_ids=[q.pk for q in questions],
            requested_count=len(questions),
            created_at=at,
        )
        PracticeAttempt.objects.bulk_create(
            PracticeAttempt(
                session=session,
                question=q,
                category_id=q.category_id,
                is_correct=(i + r) % 5 != 0,
                question_version=1,
                answered_at=at + timedelta(minutes=i),
            )
            for i, q in enumerate(questions)
        )


def test_training_items_are_the_reviews_a_day_or_more_apart() -> None:
    d = date(2026, 1, 1)
    items = training_items([[(d, False), (d, True), (d + timedelta(days=2), True)]])
    # The same-day repeat is in the history but not an item of its own.
    assert len(items) == 1
    # Again, then Good the same day, then Good two days later (the binding shows only its repr).
    assert repr(items[0]) == (
        "FSRSItem { reviews: [FSRSReview { rating: 1, delta_t: 0 }, "
        "FSRSReview { rating: 3, delta_t: 0 }, FSRSReview { rating: 3, delta_t: 2 }] }"
    )


def test_too_few_reviews_keep_the_defaults(bank: Bank, user: User) -> None:
    reviews(user, bank.all_questions, 3)
    outcome = fit_scheduler_parameters(user_id=user.pk)
    assert not outcome.fitted
    assert outcome.reason == "not enough reviews"
    assert not SchedulerParameters.objects.filter(user=user).exists()


def test_enough_reviews_are_fitted_and_refitted_only_with_more(user: User, bank: Bank) -> None:
    questions = bank.all_questions + [make_question(bank.anatomy) for _ in range(30)]
    rounds = MIN_REVIEWS_TO_FIT // len(questions) + 2
    reviews(user, questions, rounds)
    outcome = fit_scheduler_parameters(user_id=user.pk)
    assert outcome.fitted, outcome
    fitted = SchedulerParameters.objects.get(user=user)
    assert len(fitted.parameters) == len(DEFAULT_PARAMETERS)
    assert fitted.parameters != list(DEFAULT_PARAMETERS)
    assert fitted.review_count == outcome.review_count >= MIN_REVIEWS_TO_FIT

    again = fit_scheduler_parameters(user_id=user.pk)
    assert not again.fitted
    assert again.reason == "no new reviews to learn from"


def test_the_next_answer_uses_the_fitted_weights(user: User, bank: Bank) -> None:
    weights = [w * 1.1 for w in DEFAULT_PARAMETERS]
    SchedulerParameters.objects.create(user=user, parameters=weights, review_count=500)
    with time_machine.travel(START, tick=False):
        session = start_session(user, count=1)
        qid = session.question_ids[0]
        statement, params = statements.answer_context(
            user_id=user.pk, session_id=session.pk, question_id=qid, at=START
        )
        found = sql.fetch_one(statement, params, into=statements.AnswerContext)
        assert found is not None
        assert found.scheduler_parameters == weights
        assert found.desired_retention == 0.92
        answer(user, session, qid, right=True)
    card = ReviewCard.objects.get(user=user, question_id=qid)
    # The first stability of a Good rating is the third weight: the fitted one, not the default.
    assert card.state["stability"] == pytest.approx(weights[2])


def test_the_nightly_task_fits_only_learners_with_enough_answers(bank: Bank) -> None:
    busy, idle = UserFactory(), UserFactory()
    questions = bank.all_questions + [make_question(bank.anatomy) for _ in range(30)]
    reviews(busy, questions, MIN_REVIEWS_TO_FIT // len(questions) + 2)
    reviews(idle, bank.all_questions, 2)
    assert learners_to_fit() == [busy.pk]
    assert fit_scheduler_parameters_task.apply().get() == 1
    # Tasks run inline in the tests: the chunk's task fitted the busy learner.
    assert list(SchedulerParameters.objects.values_list("user_id", flat=True)) == [busy.pk]


def test_the_fitted_weights_are_in_the_personal_data_export(user: User) -> None:
    from apps.practice.selectors import personal_data

    assert personal_data(user_id=user.pk)["scheduler_parameters"] == []
    SchedulerParameters.objects.create(
        user=user, parameters=list(DEFAULT_PARAMETERS), review_count=420, fitted_at=START
    )
    assert personal_data(user_id=user.pk)["scheduler_parameters"] == [
        {
            "parameters": list(DEFAULT_PARAMETERS),
            "review_count": 420,
            "fitted_at": START.isoformat(),
        }
    ]


def test_staff_see_the_fitted_weights_read_only(admin_user: User, user: User) -> None:
    from django.contrib import admin
    from django.test import Client, RequestFactory

    fitted = SchedulerParameters.objects.create(
        user=user, parameters=list(DEFAULT_PARAMETERS), review_count=420
    )
    client = Client()
    client.force_login(admin_user)
    for path in [
        "/admin/practice/schedulerparameters/",
        f"/admin/practice/schedulerparameters/{fitted.pk}/change/",
    ]:
        assert client.get(path).status_code == 200, path
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = admin.site._registry[SchedulerParameters]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
