"""Recommendations ranked by expected marks gained, stored, and computed nightly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.models import User
from apps.readiness.compiled import forget_compiled_model
from apps.readiness.services.calibration import calibrate
from apps.recommendations.models import RecommendationRun, StoredTopics
from apps.recommendations.ranking import forget_shared_inputs
from apps.recommendations.services import compute_recommendations
from tests.analytics.helpers import answer, publish
from tests.conftest import client_for
from tests.readiness.world import World, build_world, candidates

pytestmark = pytest.mark.django_db

TOPICS = "/api/v1/recommendations/topics"


@pytest.fixture(autouse=True)
def fresh() -> Any:
    forget_compiled_model()
    forget_shared_inputs()
    yield
    forget_compiled_model()
    forget_shared_inputs()


@pytest.fixture
def world(db: Any) -> World:
    world = build_world(seed=5, per_category=24)
    for learner in candidates(30):
        world.answer(learner, world.spread_items(60), theta=float(world.rng.normal()))
    calibrate()
    forget_compiled_model()
    return world


def _practise(world: World, user: User, slug: str, count: int, right: int) -> None:
    questions = {q.pk: q for q in world.questions}
    ids = world.by_category[world.categories[slug].pk][:count]
    publish(*(answer(user, questions[q], correct=i < right) for i, q in enumerate(ids)))


def test_weak_in_heavy_anatomy_and_light_imaging_anatomy_comes_first(
    world: World, user: User
) -> None:
    # Equally weak (30%) in anatomy (75 of Part A's 300 marks) and imaging (5 of 300); sound
    # (90%) everywhere else.
    _practise(world, user, "anatomy-embryology", 20, 6)
    _practise(world, user, "imaging", 20, 6)
    for slug in world.categories:
        if slug not in ("anatomy-embryology", "imaging"):
            _practise(world, user, slug, 10, 9)
    topics = client_for(user).get(TOPICS).json()
    by_slug = {t["category_slug"]: t for t in topics}
    assert topics[0]["category_slug"] == "anatomy-embryology"
    anatomy = topics[0]
    assert anatomy["reason"] == "Low Score"
    assert anatomy["score_percent"] == 30
    evidence = anatomy["evidence"]
    assert evidence["blueprint_weight"] == 0.25
    assert evidence["threshold"] == {"rule": "low_score", "below_percent": 60, "min_answered": 10}
    assert evidence["answered"] == 20
    assert evidence["unseen_remaining"] == 24  # answered through the record, no cards yet
    assert evidence["expected_gain_marks"] > 0
    # Imaging is as weak but worth a fifteenth of the marks: ranked below, with the same reason.
    gains = [t["evidence"]["expected_gain_marks"] for t in topics]
    assert gains == sorted(gains, reverse=True)
    if "imaging" in by_slug:
        imaging = by_slug["imaging"]
        assert imaging["reason"] == "Low Score"
        assert imaging["evidence"]["expected_gain_marks"] < evidence["expected_gain_marks"] / 5


def test_the_stored_ranking_is_served_until_answers_make_it_stale(
    world: World, user: User, settings: Any
) -> None:
    settings.RECOMMENDATION_STALE_SECONDS = 600
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        _practise(world, user, "imaging", 12, 2)
        client = client_for(user)
        first = client.get(TOPICS).json()
        computed = StoredTopics.objects.get(user=user).computed_at
        # Five minutes on, an answer: within the set time, the stored ranking is served.
        clock.shift(timedelta(minutes=5))
        _practise(world, user, "trauma", 1, 1)
        client = client_for(user)  # access tokens last five minutes
        assert client.get(TOPICS).json()[0]["computed_at"] == first[0]["computed_at"]
        assert StoredTopics.objects.get(user=user).computed_at == computed
        # Twenty minutes on, more answers: older than the latest answer by more than the set
        # time, so it is computed again on read.
        clock.shift(timedelta(minutes=20))
        _practise(world, user, "physiology", 12, 1)
        again = client_for(user).get(TOPICS).json()
        assert StoredTopics.objects.get(user=user).computed_at > computed
        assert any(t["category_slug"] == "physiology" for t in again)


def test_dismissals_hide_stored_topics_at_once(world: World, user: User) -> None:
    _practise(world, user, "anatomy-embryology", 12, 2)
    client = client_for(user)
    assert client.get(TOPICS).json()[0]["category_slug"] == "anatomy-embryology"
    response = client.post(
        "/api/v1/recommendations/dismiss", {"category_slug": "anatomy-embryology"}
    )
    assert response.status_code == 204
    slugs = [t["category_slug"] for t in client.get(TOPICS).json()]
    assert "anatomy-embryology" not in slugs
    assert len(slugs) == 5


def test_the_nightly_run_ranks_active_learners_in_batches_and_a_second_run_writes_nothing(
    world: World, settings: Any
) -> None:
    settings.RECOMMENDATION_BATCH = 2
    active = candidates(3)
    for learner in active:
        _practise(world, learner, "trauma", 12, 4)
    (idle,) = candidates(1)
    long_ago = timezone.now() - timedelta(days=90)
    questions = {q.pk: q for q in world.questions}
    first_trauma = world.by_category[world.categories["trauma"].pk][0]
    publish(answer(idle, questions[first_trauma], at=long_ago))

    run = compute_recommendations()
    assert run.finished_at is not None
    assert (run.learners, run.written) == (3, 3)
    stored = {s.user_id: s for s in StoredTopics.objects.all()}
    assert set(stored) == {u.pk for u in active}  # the idle learner gets none
    reasons = {t["category_slug"]: t["reason"] for t in stored[active[0].pk].topics}
    assert reasons["trauma"] == "Low Score"

    again = compute_recommendations()
    assert (again.learners, again.written, again.unchanged) == (3, 0, 3)
    for row in StoredTopics.objects.all():
        assert row.computed_at == stored[row.user_id].computed_at  # nothing rewritten


def test_an_interrupted_run_resumes_from_its_cursor(world: World, settings: Any) -> None:
    settings.RECOMMENDATION_BATCH = 1
    learners = sorted(candidates(3), key=lambda u: u.pk)
    for learner in learners:
        _practise(world, learner, "trauma", 12, 4)
    # A run killed after its first learner: its cursor is that learner.
    RecommendationRun.objects.create(started_at=timezone.now(), cursor=learners[0].pk, learners=1)
    run = compute_recommendations()
    assert run.learners == 3
    assert set(StoredTopics.objects.values_list("user_id", flat=True)) == {
        learners[1].pk,
        learners[2].pk,
    }
    assert RecommendationRun.objects.filter(finished_at__isnull=True).count() == 0


def test_the_dashboard_suggestions_carry_the_same_evidence(world: World, user: User) -> None:
    _practise(world, user, "anatomy-embryology", 12, 2)
    client = client_for(user)
    topics = client.get(TOPICS).json()
    dashboard = client.get("/api/v1/dashboard").json()["suggested_topics"]
    assert [t["category_slug"] for t in dashboard] == [t["category_slug"] for t in topics]
    assert dashboard[0]["evidence"] == topics[0]["evidence"]


def test_the_stored_ranking_is_in_the_personal_data_export(world: World, user: User) -> None:
    _practise(world, user, "trauma", 12, 4)
    client = client_for(user)
    client.get(TOPICS)
    from apps.recommendations.selectors import personal_data

    exported = personal_data(user_id=user.pk)
    assert exported["stored_topics"]["topics"][0]["category_slug"]
