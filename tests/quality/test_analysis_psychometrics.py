"""The arithmetic of item analysis (apps/quality/psychometrics.py), checked against a simulated
population with known abilities and known item parameters, and against small hand-worked
cases. No database: the job's own tests (test_analysis_job.py) check the plumbing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from apps.quality.psychometrics import (
    FLAG_LOW_DISCRIMINATION,
    FLAG_MISKEY,
    FLAG_TOO_EASY,
    FLAG_TOO_HARD,
    OptionSpec,
    Thresholds,
    analyse_version,
    rest_scores,
)
from tests.quality.simulated_population import (
    GOOD_A,
    GOOD_B,
    GOOD_ITEM,
    MISKEY_STORED,
    MISKEY_TRUE,
    MISKEYED_ITEM,
    OPTIONS,
    Population,
    population_point_biserial,
    simulate,
)

SEED = 20261204
LIMITS = Thresholds()  # the documented defaults, whatever the environment says
OPTION_IDS = [1000 + i for i in range(OPTIONS)]


@pytest.fixture(scope="module")
def population() -> Population:
    return simulate(seed=SEED)


def _analyse(pop: Population, item: int, *, key: int | None = None, limit: int | None = None):
    key = int(pop.stored_key[item]) if key is None else key
    rows = slice(0, limit)
    correct = pop.picks[rows, item] == key
    return analyse_version(
        options=[OptionSpec(option_id=oid, is_key=i == key) for i, oid in enumerate(OPTION_IDS)],
        correct=list(correct),
        rest=pop.rest(item)[rows],
        time_sec=[60.0] * len(correct),
        selections=[[OPTION_IDS[p]] for p in pop.picks[rows, item]],
        thresholds=LIMITS,
    )


def test_a_correct_discriminating_item_matches_its_known_values_and_is_not_flagged(
    population: Population,
) -> None:
    stats = _analyse(population, GOOD_ITEM)

    assert stats.n == population.candidates == stats.ranked
    # Facility: the mean probability of knowing the item over these candidates.
    expected_facility = float(population.know_probability[:, GOOD_ITEM].mean())
    assert stats.facility == pytest.approx(expected_facility, abs=0.05)
    # Discrimination: the item's population correlation with ability, attenuated by how well
    # the rest score (39 items) measures ability.
    rho = population_point_biserial(a=GOOD_A, b=GOOD_B)
    reliability = float(np.corrcoef(population.rest(GOOD_ITEM), population.theta)[0, 1])
    assert stats.discrimination == pytest.approx(rho * reliability, abs=0.06)
    assert stats.discrimination > 0.4
    assert stats.upper_lower_index is not None
    assert stats.upper_lower_index > 0.5
    assert stats.flags == []
    assert stats.suspected_option_id is None
    key = stats.options[0]
    assert key.is_key
    assert key.point_biserial == stats.discrimination
    assert key.by_quintile == sorted(key.by_quintile)  # stronger fifths pick the key more
    assert key.by_quintile[0] < 25 < 75 < key.by_quintile[-1]
    assert all(o.point_biserial is not None and o.point_biserial < 0 for o in stats.options[1:])
    assert sum(o.picked_percent for o in stats.options) == pytest.approx(100, abs=2)


def test_a_miskeyed_item_is_flagged_with_the_option_strong_candidates_choose(
    population: Population,
) -> None:
    stats = _analyse(population, MISKEYED_ITEM)

    assert FLAG_MISKEY in stats.flags
    assert stats.suspected_option_id == OPTION_IDS[MISKEY_TRUE]
    assert stats.discrimination is not None
    assert stats.discrimination < 0
    assert FLAG_LOW_DISCRIMINATION in stats.flags
    assert stats.upper_lower_index is not None
    assert stats.upper_lower_index < 0
    stored, true = stats.options[MISKEY_STORED], stats.options[MISKEY_TRUE]
    assert stored.is_key
    assert not true.is_key
    assert true.by_quintile[-1] > stored.by_quintile[-1]
    assert stored.point_biserial is not None
    assert stored.point_biserial < 0
    assert true.point_biserial is not None
    assert true.point_biserial > 0.4


def test_the_same_item_with_its_true_key_is_not_suspected(population: Population) -> None:
    stats = _analyse(population, MISKEYED_ITEM, key=MISKEY_TRUE)

    assert FLAG_MISKEY not in stats.flags
    assert stats.suspected_option_id is None
    assert stats.discrimination is not None
    assert stats.discrimination > 0.4


def test_no_other_item_of_the_bank_is_suspected(population: Population) -> None:
    suspected = [
        i
        for i in range(population.a.size)
        if i != MISKEYED_ITEM and FLAG_MISKEY in _analyse(population, i).flags
    ]
    assert suspected == []


@pytest.mark.parametrize("limit", [10, 25, 49])
def test_below_the_minimum_n_the_miskey_is_not_flagged(population: Population, limit: int) -> None:
    stats = _analyse(population, MISKEYED_ITEM, limit=limit)

    assert stats.n == limit
    assert FLAG_MISKEY not in stats.flags
    assert FLAG_LOW_DISCRIMINATION not in stats.flags
    assert stats.suspected_option_id is None
    if limit < LIMITS.min_n_facility:
        assert stats.flags == []


def test_at_the_minimum_n_the_miskey_is_flagged(population: Population) -> None:
    stats = _analyse(population, MISKEYED_ITEM, limit=200)
    assert stats.suspected_option_id == OPTION_IDS[MISKEY_TRUE]


def _single(correct: list[bool], *, rest: list[float] | None = None):
    n = len(correct)
    return analyse_version(
        options=[OptionSpec(1, True), OptionSpec(2, False)],
        correct=correct,
        rest=rest if rest is not None else list(np.linspace(0.0, 1.0, n)),
        time_sec=[30.0] * n,
        selections=[[1] if c else [2] for c in correct],
        thresholds=LIMITS,
    )


def test_facility_flags_need_their_minimum_n() -> None:
    assert _single([False] * 28 + [True]).flags == []  # facility 1/29, but n 29: too few
    hard = _single([True] * 5 + [False] * 25)  # n 30, facility 1/6
    assert FLAG_TOO_HARD in hard.flags
    easy = _single([True] * 29 + [False])
    assert FLAG_TOO_EASY in easy.flags
    assert _single([True] * 28 + [False]).flags == []  # n 29: too few


def test_hand_worked_point_biserial_upper_lower_and_quintiles() -> None:
    rest = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    correct = [False, False, True, False, True, True, False, True, True, True]
    stats = _single(correct, rest=rest)

    x = np.array(correct, dtype=float)
    y = np.array(rest)
    p, q = x.mean(), 1 - x.mean()
    by_formula = (y[x == 1].mean() - y[x == 0].mean()) / y.std() * np.sqrt(p * q)
    assert stats.discrimination == pytest.approx(by_formula, abs=1e-4)
    # 27% of 10 is 3: the top three all correct, the bottom three one in three.
    assert stats.upper_lower_index == pytest.approx(1 - 1 / 3, abs=1e-4)
    # Fifths of two: (F, F), (T, F), (T, T), (F, T), (T, T).
    assert stats.options[0].by_quintile == [0, 50, 100, 50, 100]
    assert stats.options[0].picked_percent == 60
    assert stats.median_time_sec == 30.0


def test_without_a_rest_score_candidates_count_but_are_not_ranked() -> None:
    stats = _single([True, False, True], rest=[float("nan")] * 3)
    assert stats.n == 3
    assert stats.ranked == 0
    assert stats.facility == pytest.approx(2 / 3, abs=1e-4)
    assert stats.discrimination is None
    assert stats.upper_lower_index is None
    assert stats.options[0].by_quintile == [None] * 5


def test_no_variance_gives_no_discrimination() -> None:
    stats = _single([True] * 60)
    assert stats.discrimination is None
    assert FLAG_LOW_DISCRIMINATION not in stats.flags
    assert stats.options[1].point_biserial is None


def test_multiple_response_compares_a_distractor_with_the_least_picked_key() -> None:
    rng = np.random.default_rng(SEED)
    n = 200
    rest = np.sort(rng.random(n))
    top = rest >= np.quantile(rest, 0.8)
    # Keys 1 and 2; the strong candidates pick 1 and 3, the others 1 and 2.
    selections = [[1, 3] if strong else [1, 2] for strong in top]
    stats = analyse_version(
        options=[OptionSpec(1, True), OptionSpec(2, True), OptionSpec(3, False)],
        correct=[not strong for strong in top],
        rest=rest,
        time_sec=[10.0] * n,
        selections=selections,
        thresholds=LIMITS,
    )
    assert stats.suspected_option_id == 3


def test_rest_scores_leave_the_item_out() -> None:
    scores = rest_scores(correct=[True, False, True, True], totals=[(5, 3), (5, 3), (1, 1), None])
    assert scores[0] == pytest.approx(0.5)  # 2 of the 4 others
    assert scores[1] == pytest.approx(0.75)  # 3 of the 4 others
    assert np.isnan(scores[2])
    assert np.isnan(scores[3])


def test_thresholds_come_from_settings(settings: Any) -> None:
    settings.QUALITY_MIN_N_MISKEY = 7
    settings.QUALITY_TOO_HARD_BELOW = 0.5
    limits = Thresholds.from_settings()
    assert limits.min_n_miskey == 7
    assert limits.too_hard_below == 0.5


def test_a_large_bank_has_no_false_alarm_not_even_on_items_too_hard_for_everyone() -> None:
    """3000 candidates, 150 items: some items are so hard that the top fifth's guesses on one
    distractor outnumber its right answers. Those are too hard, not mis-keyed."""
    pop = simulate(seed=1, candidates=3000, items=150)
    suspected, too_hard = [], []
    for item in range(pop.a.size):
        stats = _analyse(pop, item)
        if FLAG_MISKEY in stats.flags:
            suspected.append((item, stats.suspected_option_id))
        if FLAG_TOO_HARD in stats.flags:
            too_hard.append(item)
    assert suspected == [(MISKEYED_ITEM, OPTION_IDS[MISKEY_TRUE])]
    hardest = int(np.argmax(pop.b))
    assert hardest in too_hard
    top_fifth = _analyse(pop, hardest).options
    key_rate = top_fifth[int(pop.stored_key[hardest])].by_quintile[-1]
    assert any(
        o.by_quintile[-1] > key_rate
        for i, o in enumerate(top_fifth)
        if i != pop.stored_key[hardest]
    )


def test_sixty_candidates_are_enough_to_find_the_miskey() -> None:
    pop = simulate(seed=SEED, candidates=60)
    flagged = [i for i in range(pop.a.size) if FLAG_MISKEY in _analyse(pop, i).flags]
    assert flagged == [MISKEYED_ITEM]
