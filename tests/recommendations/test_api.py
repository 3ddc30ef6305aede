from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.analytics.selectors import learner_stats
from apps.recommendations.models import TopicDismissal
from apps.recommendations.services import dismiss_topic, purge_expired_dismissals
from apps.recommendations.tasks import purge_expired_dismissals_task
from apps.taxonomy.models import Category
from apps.taxonomy.selectors import active_category_rows
from apps.taxonomy.services import forget_active_categories
from tests.analytics.helpers import answer, publish
from tests.conftest import client_for
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

TOPICS = "/api/v1/recommendations/topics"
DISMISS = "/api/v1/recommendations/dismiss"


@pytest.fixture
def categories(db: Any) -> list[Category]:
    return [CategoryFactory(name=f"Topic {i}", slug=f"topic-{i}", order=i) for i in range(7)]


def slugs(client: APIClient) -> list[str]:
    return [t["category_slug"] for t in client.get(TOPICS).json()]


def test_a_new_learner_gets_not_started_topics(
    user_client: APIClient, categories: list[Category]
) -> None:
    response = user_client.get(TOPICS)
    assert response.status_code == 200
    body = response.json()
    assert [t["category_slug"] for t in body] == [f"topic-{i}" for i in range(5)]
    first = dict(body[0])
    evidence, computed_at = first.pop("evidence"), first.pop("computed_at")
    assert first == {
        "category": "Topic 0",
        "category_slug": "topic-0",
        "score_percent": 0,
        "reason": "Not Started",
        "answered": 0,
        "last_practiced_at": None,
    }
    assert computed_at is not None
    # not on either paper's blueprint: worth no marks, so no gain; the reason orders the ties
    assert evidence == {
        "answered": 0,
        "score_percent": 0,
        "threshold": {"rule": "not_started"},
        "unseen_remaining": 0,
        "mean_retrievability": None,
        "blueprint_weight": 0.0,
        "expected_score_percent": 50,
        "expected_gain_marks": 0.0,
        "gain_from": "new_questions",
    }


def test_answers_change_the_suggestions_at_once(
    user: User, user_client: APIClient, categories: list[Category]
) -> None:
    questions = [make_question(categories[3]) for _ in range(10)]
    publish(*(answer(user, q, correct=i < 2) for i, q in enumerate(questions)))
    first = user_client.get(TOPICS).json()[0]
    assert (first["category_slug"], first["reason"], first["score_percent"]) == (
        "topic-3",
        "Low Score",
        20,
    )


def test_suggestions_are_the_callers_own(
    user: User, other_client: APIClient, categories: list[Category]
) -> None:
    questions = [make_question(categories[3]) for _ in range(10)]
    publish(*(answer(user, q, correct=False) for q in questions))
    assert slugs(other_client) == [f"topic-{i}" for i in range(5)]


def test_topics_require_authentication(api_client: APIClient) -> None:
    assert api_client.get(TOPICS).status_code == 401
    assert api_client.post(DISMISS, {"category_slug": "topic-0"}).status_code == 401


def test_topics_query_count(
    user: User,
    user_client: APIClient,
    categories: list[Category],
    django_assert_max_num_queries: Any,
) -> None:
    publish(*(answer(user, make_question(c)) for c in categories))
    active_category_rows()  # the active categories are cached for everyone
    assert user_client.get(TOPICS).status_code == 200  # computes and stores the ranking
    with django_assert_max_num_queries(4):  # auth, progress, the stored ranking, dismissals
        assert user_client.get(TOPICS).status_code == 200


def test_learner_stats_follow_the_active_categories(user: User, categories: list[Category]) -> None:
    retired = CategoryFactory(slug="retired-topic", order=99)
    publish(
        answer(user, make_question(categories[0]), correct=True),
        answer(user, make_question(categories[0]), correct=False),
        answer(user, make_question(categories[2]), correct=True),
        answer(user, make_question(retired), correct=False),
    )
    Category.objects.filter(pk=retired.pk).update(is_active=False)
    forget_active_categories()
    standing = learner_stats(user_id=user.pk)
    assert (standing.answered, standing.correct) == (4, 2)
    assert [c.slug for c in standing.categories] == [c.slug for c in categories]


def test_dismiss_hides_a_topic_for_the_configured_days(
    user: User, categories: list[Category], settings: Any
) -> None:
    settings.RECOMMENDATION_DISMISS_DAYS = 7
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = client_for(user)
        response = client.post(DISMISS, {"category_slug": "topic-1"}, format="json")
        assert response.status_code == 204
        assert response.content == b""
        assert slugs(client) == ["topic-0", "topic-2", "topic-3", "topic-4", "topic-5"]
        clock.shift(timedelta(days=6, hours=23))
        assert "topic-1" not in slugs(client_for(user))
        clock.shift(timedelta(hours=2))
        assert "topic-1" in slugs(client_for(user))


def test_dismissing_again_restarts_the_period(user: User, categories: list[Category]) -> None:
    dismiss_topic(user_id=user.pk, category_slug="topic-0", now=timezone.now() - timedelta(days=6))
    dismiss_topic(user_id=user.pk, category_slug="topic-0")
    assert TopicDismissal.objects.filter(user=user).count() == 1
    assert TopicDismissal.objects.get(user=user).dismissed_at > timezone.now() - timedelta(hours=1)


def test_dismissal_is_the_callers_own(
    user_client: APIClient, other_client: APIClient, categories: list[Category]
) -> None:
    assert user_client.post(DISMISS, {"category_slug": "topic-0"}).status_code == 204
    assert slugs(other_client)[0] == "topic-0"


@pytest.mark.parametrize(
    "payload",
    [{}, {"category_slug": ""}, {"category_slug": "no-such-topic"}, {"category_slug": "a b"}],
)
def test_dismiss_rejects_bad_input(
    user_client: APIClient, categories: list[Category], payload: dict[str, str]
) -> None:
    response = user_client.post(DISMISS, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "category_slug" in body["fields"]
    assert not TopicDismissal.objects.exists()


def test_an_inactive_category_cannot_be_dismissed(
    user_client: APIClient, categories: list[Category]
) -> None:
    Category.objects.filter(slug="topic-2").update(is_active=False)
    response = user_client.post(DISMISS, {"category_slug": "topic-2"}, format="json")
    assert response.status_code == 400


def test_expired_dismissals_are_purged(
    user: User, other_user: User, categories: list[Category], settings: Any
) -> None:
    settings.RECOMMENDATION_DISMISS_DAYS = 7
    old = timezone.now() - timedelta(days=8)
    dismiss_topic(user_id=user.pk, category_slug="topic-0", now=old)
    dismiss_topic(user_id=other_user.pk, category_slug="topic-0")
    assert purge_expired_dismissals_task.delay().get() == 1
    assert list(TopicDismissal.objects.values_list("user_id", flat=True)) == [other_user.pk]
    assert purge_expired_dismissals() == 0
