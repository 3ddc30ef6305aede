"""The reasons in words (``classify``) and the gain arithmetic (``gains``): pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.analytics.selectors import CategoryStat
from apps.recommendations.gains import CategoryInputs, expected_gain, shrunk_score
from apps.recommendations.ranking import classify

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def rules(settings: Any) -> None:
    settings.RECOMMENDATION_LOW_SCORE_MIN_ANSWERED = 10
    settings.RECOMMENDATION_LOW_SCORE_PERCENT = 60
    settings.RECOMMENDATION_REVIEW_AFTER_DAYS = 14
    settings.RECOMMENDATION_QUESTIONS_PER_HOUR = 30
    settings.RECOMMENDATION_LEARNING_RATE = 0.04
    settings.RECOMMENDATION_SCORE_CEILING = 0.95
    settings.RECOMMENDATION_PRIOR_ANSWERS = 10


def stat(answered: int = 0, correct: int = 0, days_ago: int | None = None) -> CategoryStat:
    return CategoryStat(
        category_id=1,
        name="Category",
        slug="category",
        order=0,
        answered=answered,
        correct=correct,
        last_practiced_at=None if days_ago is None else NOW - timedelta(days=days_ago),
    )


@pytest.mark.parametrize(
    ("category", "reason", "rule"),
    [
        (stat(10, 5, days_ago=1), "Low Score", "low_score"),
        (stat(30, 6, days_ago=30), "Low Score", "low_score"),  # low and stale: low wins
        (stat(9, 0, days_ago=1), "Keep Practising", "keep_practising"),  # too few to judge
        (stat(12, 10, days_ago=20), "Needs Review", "needs_review"),
        (stat(10, 6, days_ago=14), "Keep Practising", "keep_practising"),  # 60%, 14 days: not yet
        (stat(), "Not Started", "not_started"),
    ],
)
def test_reasons_and_their_thresholds(category: CategoryStat, reason: str, rule: str) -> None:
    got, threshold = classify(category, now=NOW)
    assert got == reason
    assert threshold["rule"] == rule
    if rule == "low_score":
        assert threshold == {"rule": rule, "below_percent": 60, "min_answered": 10}
    if rule == "needs_review":
        assert threshold == {"rule": rule, "after_days": 14}


def test_settings_change_the_rules(settings: Any) -> None:
    settings.RECOMMENDATION_LOW_SCORE_PERCENT = 90
    assert classify(stat(10, 8, days_ago=1), now=NOW)[0] == "Low Score"


def inputs(**overrides: Any) -> CategoryInputs:
    base: dict[str, Any] = {
        "marks": 75,
        "score": 0.5,
        "unseen_remaining": 500,
        "bank_size": 600,
        "cards": 0,
        "mean_retrievability": None,
    }
    return CategoryInputs(**{**base, **overrides})


def test_the_gain_is_proportional_to_the_marks_at_stake() -> None:
    heavy = expected_gain(inputs(marks=75)).best
    light = expected_gain(inputs(marks=5)).best
    assert heavy == pytest.approx(15 * light)
    # 75 marks x (0.95 - 0.5) gap x 0.04 per hour
    assert heavy == pytest.approx(75 * 0.45 * 0.04)


def test_nothing_left_to_learn_and_nothing_forgotten_gains_nothing() -> None:
    assert expected_gain(inputs(unseen_remaining=0)).best == 0.0
    assert expected_gain(inputs(score=0.97)).new == 0.0
    half = expected_gain(inputs(unseen_remaining=15)).new
    assert half == pytest.approx(expected_gain(inputs()).new / 2)  # half an hour's worth left


def test_forgetting_makes_reviews_worth_an_hour() -> None:
    fresh = expected_gain(inputs(unseen_remaining=0, cards=300, mean_retrievability=0.95))
    faded = expected_gain(inputs(unseen_remaining=0, cards=300, mean_retrievability=0.6))
    assert faded.review > fresh.review > 0
    assert faded.new == 0.0


def test_a_few_answers_do_not_read_as_mastery() -> None:
    assert shrunk_score(answered=3, correct=3, model_score=0.5) == pytest.approx(
        (3 + 10 * 0.5) / 13
    )
    assert shrunk_score(answered=0, correct=0, model_score=None) == 0.5
    assert shrunk_score(answered=1000, correct=900, model_score=0.2) > 0.88


@given(
    marks=st.integers(0, 120),
    score=st.floats(0, 1),
    unseen=st.integers(0, 2000),
    cards=st.integers(0, 2000),
    retrievability=st.none() | st.floats(0, 1),
)
def test_gains_are_never_negative_nor_more_than_the_marks(
    marks: int, score: float, unseen: int, cards: int, retrievability: float | None
) -> None:
    gain = expected_gain(
        inputs(
            marks=marks,
            score=score,
            unseen_remaining=unseen,
            cards=cards,
            mean_retrievability=retrievability if cards else None,
        )
    )
    assert 0.0 <= gain.new <= marks
    assert 0.0 <= gain.review <= marks
