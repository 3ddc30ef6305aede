"""Readiness against a world whose truth is known (Rasch): synthetic candidates and questions,
first attempts drawn from the model, then the real pipeline (the nightly calibration, the
incremental abilities, the readiness document). The bars are the issue's: abilities and
difficulties recovered (correlation >= 0.9 from a few thousand answers), 80% intervals that cover
about 80% (within 10 points), and a candidate far above the pass mark near certain to pass."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.test import override_settings

from apps.exams.selectors.standards import DEFAULT_BLUEPRINTS
from apps.readiness import irt
from apps.readiness.compiled import forget_compiled_model
from apps.readiness.models import CalibrationRun, ItemParameter, LearnerAbility
from apps.readiness.services.calibration import calibrate
from apps.readiness.services.predictions import readiness_for
from tests.readiness.world import World, build_world, candidates

pytestmark = pytest.mark.django_db

LEARNERS = 150
ANSWERS_EACH = 40  # 6,000 first attempts over 150 questions (40 per question)


@pytest.fixture
def simulated(db: Any) -> tuple[World, list[Any]]:
    world = build_world(seed=2026, per_category=6)
    learners = candidates(LEARNERS)
    for learner in learners:
        world.answer(
            learner,
            world.spread_items(ANSWERS_EACH),
            theta=float(world.rng.normal(0.0, 1.0)),
        )
    forget_compiled_model()
    return world, learners


def test_the_calibration_recovers_known_difficulties_and_abilities(
    simulated: tuple[World, list[Any]],
) -> None:
    world, learners = simulated
    run = calibrate()
    assert run.status == CalibrationRun.Status.FINISHED, run.error
    assert run.converged
    assert (run.responses, run.learners, run.items) == (
        LEARNERS * ANSWERS_EACH,
        LEARNERS,
        len(world.questions),
    )
    fitted = dict(ItemParameter.objects.filter(run=run).values_list("question_id", "difficulty"))
    ids = sorted(fitted)
    r_items = np.corrcoef([fitted[i] for i in ids], [world.difficulty[i] for i in ids])[0, 1]
    abilities = dict(LearnerAbility.objects.values_list("user_id", "theta"))
    users = [u.pk for u in learners]
    r_people = np.corrcoef([abilities[u] for u in users], [world.ability[u] for u in users])[0, 1]
    assert r_items >= 0.9, r_items
    assert r_people >= 0.9, r_people
    # Every item's fit is computed; under the model it is close to 1 on average.
    fits = list(ItemParameter.objects.filter(run=run).values_list("infit", flat=True))
    assert 0.85 < float(np.mean(fits)) < 1.15


def test_ability_intervals_cover_the_true_ability_about_80_percent_of_the_time(
    simulated: tuple[World, list[Any]],
) -> None:
    world, learners = simulated
    run = calibrate()
    inside = 0
    for row in LearnerAbility.objects.filter(user__in=learners):
        weights = irt.posterior(np.asarray(row.log_likelihood), run.ability_sd)
        cdf = np.cumsum(weights)
        low, high = np.interp([0.1, 0.9], cdf, irt.GRID)
        inside += int(low <= world.ability[row.user_id] <= high)
    coverage = inside / LEARNERS
    assert 0.7 <= coverage <= 0.9, coverage


@override_settings(READINESS_MIN_ANSWERS=30, READINESS_MIN_PER_CATEGORY=1)
def test_predicted_paper_intervals_cover_real_sittings_about_80_percent(
    simulated: tuple[World, list[Any]],
) -> None:
    world, learners = simulated
    calibrate()
    inside = {1: 0, 2: 0}
    for learner in learners:
        document = readiness_for(user=learner)
        assert document["status"] == "ok", document
        for paper in document["papers"]:
            actual = world.simulate_paper_percent(
                world.ability[learner.pk], DEFAULT_BLUEPRINTS[paper["paper"]]
            )
            low, high = paper["interval_80"]
            # The interval is given in whole percentages: a score rounds to one of them.
            inside[paper["paper"]] += low - 0.5 <= actual <= high + 0.5
    for paper, count in inside.items():
        coverage = count / LEARNERS
        assert 0.7 <= coverage <= 0.9, (paper, coverage)


@override_settings(READINESS_MIN_ANSWERS=30, READINESS_MIN_PER_CATEGORY=1)
def test_a_candidate_far_above_the_pass_mark_is_near_certain_and_far_below_near_hopeless(
    simulated: tuple[World, list[Any]],
) -> None:
    world, _ = simulated
    strong, weak = candidates(2)
    world.answer(strong, world.spread_items(80), theta=4.0)
    world.answer(weak, world.spread_items(80), theta=-4.0)
    calibrate()
    forget_compiled_model()
    high, low = readiness_for(user=strong), readiness_for(user=weak)
    assert high["status"] == low["status"] == "ok"
    assert high["overall"]["pass_probability"] >= 0.95
    assert all(p["probability_above_minimum"] >= 0.95 for p in high["papers"])
    assert low["overall"]["pass_probability"] <= 0.05
    # The pass probability never exceeds either paper's chance of clearing its minimum: both
    # are needed.
    for document in (high, low):
        assert (
            document["overall"]["pass_probability"]
            <= min(p["probability_above_minimum"] for p in document["papers"]) + 0.005
        )
