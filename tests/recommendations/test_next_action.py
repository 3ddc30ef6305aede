"""The dashboard's ``today.next_action``: the single most valuable thing to do now."""

from __future__ import annotations

from typing import Any

import pytest

from apps.recommendations.ranking import next_action


def topic(
    slug: str = "anatomy", gain: float = 1.5, unseen: int = 500, source: str = "new_questions"
) -> dict[str, Any]:
    return {
        "category": slug.title(),
        "category_slug": slug,
        "evidence": {"expected_gain_marks": gain, "unseen_remaining": unseen, "gain_from": source},
    }


@pytest.fixture(autouse=True)
def hour(settings: Any) -> None:
    settings.RECOMMENDATION_QUESTIONS_PER_HOUR = 30


def test_due_reviews_come_first() -> None:
    assert next_action(reviews_due=12, new_remaining=20, topics=[topic()]) == {
        "kind": "reviews",
        "label": "12 reviews due",
        "category_slug": None,
        "expected_gain_marks": None,
    }
    single = next_action(reviews_due=1, new_remaining=0, topics=[])
    assert single is not None
    assert single["label"] == "1 review due"


def test_then_new_questions_in_the_top_category_with_their_share_of_the_gain() -> None:
    action = next_action(
        reviews_due=0, new_remaining=20, topics=[topic(gain=1.5), topic("imaging", 0.1)]
    )
    assert action == {
        "kind": "new",
        "label": "20 new in Anatomy: +1.0 marks expected",
        "category_slug": "anatomy",
        "expected_gain_marks": 1.0,  # 20 of an hour's 30 questions
    }


def test_no_more_new_than_the_category_holds() -> None:
    action = next_action(reviews_due=0, new_remaining=20, topics=[topic(unseen=6, gain=0.9)])
    assert action is not None
    assert action["label"].startswith("6 new in Anatomy")


def test_when_todays_new_questions_are_used_the_top_topic_itself() -> None:
    action = next_action(reviews_due=0, new_remaining=0, topics=[topic(gain=1.5)])
    assert action == {
        "kind": "topic",
        "label": "Practise Anatomy: +1.5 marks expected in an hour",
        "category_slug": "anatomy",
        "expected_gain_marks": 1.5,
    }


def test_a_review_led_topic_is_practised_not_offered_as_new() -> None:
    action = next_action(reviews_due=0, new_remaining=20, topics=[topic(source="reviews")])
    assert action is not None
    assert action["kind"] == "topic"


def test_nothing_to_suggest() -> None:
    assert next_action(reviews_due=0, new_remaining=20, topics=[]) is None
