from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.analytics.selectors import CategoryStat
from apps.recommendations.selectors import rank_topics

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def rules(settings: Any) -> None:
    settings.RECOMMENDATION_LOW_SCORE_MIN_ANSWERED = 10
    settings.RECOMMENDATION_LOW_SCORE_PERCENT = 60
    settings.RECOMMENDATION_REVIEW_AFTER_DAYS = 14


def stat(i: int, answered: int = 0, correct: int = 0, days_ago: int | None = None) -> CategoryStat:
    return CategoryStat(
        category_id=i,
        name=f"Category {i}",
        slug=f"category-{i}",
        order=i,
        answered=answered,
        correct=correct,
        last_practiced_at=None if days_ago is None else NOW - timedelta(days=days_ago),
    )


def reasons(topics: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(t["category_slug"], t["reason"]) for t in topics]


def test_a_new_learner_is_offered_the_first_five_not_started() -> None:
    topics = rank_topics(categories=[stat(i) for i in range(8)], now=NOW)
    assert reasons(topics) == [(f"category-{i}", "Not Started") for i in range(5)]
    assert {t["score_percent"] for t in topics} == {0}


def test_low_score_first_then_needs_review_then_not_started() -> None:
    categories = [
        stat(0, answered=20, correct=15, days_ago=1),  # 75%: fine
        stat(1, answered=10, correct=5, days_ago=1),  # 50%: low
        stat(2, answered=9, correct=0, days_ago=1),  # too few answers to judge
        stat(3, answered=30, correct=6, days_ago=30),  # 20%: low (and stale: low wins)
        stat(4, answered=12, correct=10, days_ago=20),  # stale
        stat(5, answered=12, correct=10, days_ago=40),  # staler
        stat(6),  # not started
    ]
    topics = rank_topics(categories=categories, now=NOW)
    assert reasons(topics) == [
        ("category-3", "Low Score"),
        ("category-1", "Low Score"),
        ("category-5", "Needs Review"),
        ("category-4", "Needs Review"),
        ("category-6", "Not Started"),
    ]
    assert [t["score_percent"] for t in topics] == [20, 50, 83, 83, 0]


def test_the_thresholds_are_exclusive_where_they_should_be() -> None:
    categories = [
        stat(0, answered=10, correct=6, days_ago=14),  # exactly 60% and exactly 14 days
        stat(1, answered=10, correct=5, days_ago=1),
    ]
    topics = rank_topics(categories=categories, now=NOW)
    assert reasons(topics)[0] == ("category-1", "Low Score")
    assert ("category-0", "Needs Review") not in reasons(topics)


def test_at_most_five() -> None:
    categories = [stat(i, answered=10, correct=i) for i in range(9)]
    topics = rank_topics(categories=categories, now=NOW)
    assert [t["category_slug"] for t in topics] == [f"category-{i}" for i in range(5)]


def test_at_least_three_when_the_rules_find_fewer() -> None:
    categories = [
        stat(0, answered=40, correct=39, days_ago=1),
        stat(1, answered=40, correct=30, days_ago=1),
        stat(2, answered=40, correct=35, days_ago=1),
        stat(3),
    ]
    topics = rank_topics(categories=categories, now=NOW)
    assert reasons(topics) == [
        ("category-3", "Not Started"),
        ("category-1", "Keep Practising"),
        ("category-2", "Keep Practising"),
    ]


def test_dismissed_categories_are_hidden_even_from_the_padding() -> None:
    categories = [stat(i) for i in range(4)]
    topics = rank_topics(categories=categories, dismissed={0, 2}, now=NOW)
    assert reasons(topics) == [("category-1", "Not Started"), ("category-3", "Not Started")]


def test_settings_change_the_rules(settings: Any) -> None:
    settings.RECOMMENDATION_LOW_SCORE_PERCENT = 90
    topics = rank_topics(categories=[stat(0, answered=10, correct=8, days_ago=1)], now=NOW)
    assert reasons(topics) == [("category-0", "Low Score")]
