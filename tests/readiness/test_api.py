"""GET /analytics/readiness and the dashboard's readiness block, through real authentication."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Profile, User
from apps.exams.models import PassStandard
from apps.readiness.compiled import forget_compiled_model
from apps.readiness.models import LearnerAbility
from apps.readiness.services.calibration import calibrate
from tests.analytics.helpers import answer, publish
from tests.conftest import client_for
from tests.readiness.world import World, build_world, candidates

pytestmark = pytest.mark.django_db

ENOUGH = override_settings(READINESS_MIN_ANSWERS=30, READINESS_MIN_PER_CATEGORY=1)


@pytest.fixture(autouse=True)
def fresh_model() -> Any:
    forget_compiled_model()
    yield
    forget_compiled_model()


@pytest.fixture
def world(db: Any) -> World:
    """A calibrated bank: 40 candidates' first attempts over 100 questions."""
    world = build_world(seed=7, per_category=4)
    for learner in candidates(40):
        world.answer(learner, world.spread_items(30), theta=float(world.rng.normal()))
    calibrate()
    forget_compiled_model()
    return world


def test_readiness_needs_authentication(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/analytics/readiness")
    assert response.status_code == 401
    assert set(response.json()) >= {"code", "message"}


def test_before_the_first_calibration_it_says_so(user_client: APIClient) -> None:
    body = user_client.get("/api/v1/analytics/readiness").json()
    assert body["status"] == "insufficient_data"
    assert body["papers"] == []
    assert body["overall"] is None
    assert body["model"] is None
    assert "calibration" in body["message"]


def test_a_new_candidate_is_told_what_is_needed(world: World, user_client: APIClient) -> None:
    body = user_client.get("/api/v1/analytics/readiness").json()
    assert body["status"] == "insufficient_data"
    assert body["needed"]["answers"] == 60  # READINESS_MIN_ANSWERS
    # every blueprint category the bank can test, heaviest first (anatomy is Paper 1's largest)
    assert body["needed"]["categories"][0] == "anatomy-embryology"
    assert len(body["needed"]["categories"]) == len(world.categories)
    assert body["message"].startswith("Answer 60 more questions, including ")
    assert body["papers"] == []
    assert body["percentile"] is None
    assert body["model"]["kind"] == "rasch"
    assert body["model"]["items"] == len(world.questions)


def test_a_candidate_missing_one_category_is_told_which(world: World, user: User) -> None:
    cardio = world.categories["cardiothoracic-surgery"].pk
    items = [q for q in world.spread_items(100) if q not in world.by_category[cardio]][:70]
    world.answer(user, items, theta=0.0)
    body = client_for(user).get("/api/v1/analytics/readiness").json()
    assert body["status"] == "insufficient_data"
    assert body["needed"] == {"answers": 1, "categories": ["cardiothoracic-surgery"]}
    assert "Cardiothoracic Surgery" in body["message"]
    world.answer(user, world.by_category[cardio][:1], theta=0.0)
    assert client_for(user).get("/api/v1/analytics/readiness").json()["status"] == "ok"


@ENOUGH
def test_everything_right_beats_everything_wrong(world: World) -> None:
    right, wrong = candidates(2)
    world.answer(right, world.spread_items(40), correct=True)
    world.answer(wrong, world.spread_items(40), correct=False)
    strong = client_for(right).get("/api/v1/analytics/readiness").json()
    weak = client_for(wrong).get("/api/v1/analytics/readiness").json()
    assert strong["status"] == weak["status"] == "ok"
    assert strong["overall"]["pass_probability"] > weak["overall"]["pass_probability"]
    assert strong["ability"]["theta"] > weak["ability"]["theta"]
    assert strong["unseen_only"] == {"answered": 40, "score_percent": 100}
    assert weak["unseen_only"] == {"answered": 40, "score_percent": 0}
    for body in (strong, weak):
        assert [p["paper"] for p in body["papers"]] == [1, 2]
        for paper in body["papers"]:
            low, high = paper["interval_80"]
            assert 0 <= low <= paper["predicted_percent"] <= high <= 100
            assert paper["minimum_percent"] == 70
        assert body["overall"]["combined_pass_mark_percent"] == 73


@ENOUGH
def test_answers_update_the_ability_without_a_refit_and_repeats_do_not_count(
    world: World, user: User
) -> None:
    items = world.spread_items(40)
    world.answer(user, items[:30], correct=True)
    client = client_for(user)
    before = client.get("/api/v1/analytics/readiness").json()
    assert before["unseen_only"]["answered"] == 30
    # ten new questions, all wrong, through the learning record's real recorder
    questions = {q.pk: q for q in world.questions}
    publish(*(answer(user, questions[q], correct=False) for q in items[30:]))
    after = client.get("/api/v1/analytics/readiness").json()
    assert after["unseen_only"] == {"answered": 40, "score_percent": 75}
    assert after["ability"]["theta"] < before["ability"]["theta"]
    # repeating questions already seen (now right) changes nothing readiness counts
    publish(*(answer(user, questions[q], correct=True) for q in items[30:]))
    again = client.get("/api/v1/analytics/readiness").json()
    assert again["unseen_only"] == after["unseen_only"]
    assert again["ability"] == after["ability"]
    row = LearnerAbility.objects.get(user=user)
    assert row.first_answered == 40
    assert row.first_correct == 30


@ENOUGH
def test_a_second_read_adds_nothing_twice_and_stays_bounded_in_queries(
    world: World, user: User, django_assert_max_num_queries: Any
) -> None:
    world.answer(user, world.spread_items(60), theta=0.5)
    client = client_for(user)
    first = client.get("/api/v1/analytics/readiness").json()
    with django_assert_max_num_queries(8):
        second = client.get("/api/v1/analytics/readiness").json()
    assert first == second


@ENOUGH
def test_the_dashboard_shows_the_same_pass_probability(world: World, user: User) -> None:
    world.answer(user, world.spread_items(40), theta=1.0)
    client = client_for(user)
    readiness = client.get("/api/v1/analytics/readiness").json()
    block = client.get("/api/v1/dashboard").json()["readiness"]
    assert block == {"status": "ok", "pass_probability": readiness["overall"]["pass_probability"]}


def test_the_dashboard_block_for_a_new_candidate(world: World, user_client: APIClient) -> None:
    body = user_client.get("/api/v1/dashboard").json()
    assert body["readiness"] == {"status": "insufficient_data", "pass_probability": None}
    assert "performance" in body  # existing fields unchanged


@ENOUGH
def test_a_higher_pass_mark_lowers_the_pass_probability(world: World, user: User) -> None:
    world.answer(user, world.spread_items(40), theta=0.8)
    client = client_for(user)
    before = client.get("/api/v1/analytics/readiness").json()["overall"]
    PassStandard.objects.update_or_create(id=1, defaults={"combined_pass_mark_percent": 85})
    forget_compiled_model()
    after = client.get("/api/v1/analytics/readiness").json()["overall"]
    assert after["combined_pass_mark_percent"] == 85
    assert after["pass_probability"] < before["pass_probability"]


@override_settings(READINESS_MIN_ANSWERS=30, READINESS_MIN_PER_CATEGORY=1, READINESS_MIN_COHORT=3)
def test_percentile_within_the_same_sitting_and_only_for_a_large_enough_cohort(
    world: World,
) -> None:
    sitting = timezone.localdate() + timedelta(days=60)
    same_month = sitting.replace(day=1) if sitting.day != 1 else sitting.replace(day=2)
    low, middle, high, elsewhere = candidates(4)
    for learner, theta, when in (
        (low, -2.0, sitting),
        (middle, 0.0, same_month),
        (high, 2.0, sitting),
        (elsewhere, 3.0, sitting + timedelta(days=62)),
    ):
        Profile.objects.filter(user=learner).update(exam_sitting=when)
        world.answer(
            learner, world.spread_items(40), correct=theta > 0 if theta else None, theta=theta
        )
    for learner in (low, middle, high, elsewhere):
        client_for(learner).get("/api/v1/analytics/readiness")
    top = client_for(high).get("/api/v1/analytics/readiness").json()["percentile"]
    assert top["cohort_size"] == 3
    assert top["exam_sitting"] == sitting.isoformat()
    bottom = client_for(low).get("/api/v1/analytics/readiness").json()["percentile"]
    assert bottom["value"] < top["value"]
    # alone in its month: too small a cohort, so no percentile
    assert client_for(elsewhere).get("/api/v1/analytics/readiness").json()["percentile"] is None


@ENOUGH
def test_one_candidates_readiness_is_their_own(world: World, user: User, other_user: User) -> None:
    world.answer(user, world.spread_items(40), correct=True)
    theirs = client_for(other_user).get("/api/v1/analytics/readiness").json()
    assert theirs["status"] == "insufficient_data"
    assert theirs["unseen_only"]["answered"] == 0


def test_unknown_query_parameters_do_not_break_it(world: World, user_client: APIClient) -> None:
    response = user_client.get("/api/v1/analytics/readiness?paper=9&x=%00")
    assert response.status_code == 200


def test_a_date_far_in_the_future_for_the_sitting_is_refused(user_client: APIClient) -> None:
    response = user_client.patch("/api/v1/me", {"exam_sitting": date(2099, 1, 1).isoformat()})
    assert response.status_code == 400
    assert "exam_sitting" in response.json()["fields"]


@ENOUGH
def test_the_dashboard_block_costs_the_same_for_a_short_and_a_long_history(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.analytics.models import AnswerFact
    from apps.readiness.services.predictions import readiness_summary

    short, long = candidates(2)
    world.answer(short, world.spread_items(40), theta=0.0)
    world.answer(long, world.spread_items(90), theta=0.0)  # of the bank's 100
    questions = {q.pk: q for q in world.questions}

    def cost(user: User) -> int:
        readiness_summary(user=user)  # first read: the learner's row is built once
        seen = set(AnswerFact.objects.filter(user=user).values_list("question_id", flat=True))
        fresh = [q for q in questions if q not in seen][:5]
        publish(*(answer(user, questions[q], correct=True) for q in fresh))
        with CaptureQueriesContext(connection) as captured:
            readiness_summary(user=user)
        assert LearnerAbility.objects.get(user=user).first_answered == len(seen) + 5
        return len(captured.captured_queries)

    assert cost(short) == cost(long) <= 7


def test_with_billing_on_readiness_needs_its_entitlement(
    world: World, user: User, settings: Any
) -> None:
    settings.BILLING_ENABLED = True
    settings.STRIPE_SECRET_KEY = "sk_test_readiness"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_readiness"
    client = client_for(user)
    response = client.get("/api/v1/analytics/readiness")
    assert response.status_code == 403
    assert response.json()["code"] == "entitlement_required"
    block = client.get("/api/v1/dashboard").json()["readiness"]
    assert block == {"status": "not_entitled", "pass_probability": None}


@ENOUGH
def test_a_run_pruned_while_a_process_still_holds_it_does_not_fail_a_read(
    world: World, user: User
) -> None:
    from apps.readiness.compiled import compiled_model
    from apps.readiness.models import CalibrationRun

    world.answer(user, world.spread_items(40), theta=0.5)
    held = compiled_model()  # this process keeps the run for a minute
    assert held is not None
    CalibrationRun.objects.filter(pk=held.run.pk).delete()  # pruned by a newer night's job
    body = client_for(user).get("/api/v1/analytics/readiness").json()
    assert body["status"] == "ok"
    calibrate()
    forget_compiled_model()
    again = client_for(user).get("/api/v1/analytics/readiness").json()
    assert again["status"] == "ok"
    assert LearnerAbility.objects.get(user=user).run_id != held.run.pk  # rebuilt on the new run
