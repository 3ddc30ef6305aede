from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.questions.models import QuestionStatus
from apps.taxonomy import progress
from tests.questions.factories import make_question
from tests.questions.leaks import assert_no_leak
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_provider() -> Iterator[None]:
    saved = progress._provider
    progress.set_progress_provider(None)
    yield
    progress.set_progress_provider(saved)


@pytest.mark.usefixtures("no_provider")
def test_list_is_plain_array_of_active_categories_with_published_counts(
    user_client: APIClient,
) -> None:
    b = CategoryFactory(name="Bravo", slug="bravo", order=2, description="B things")
    a = CategoryFactory(name="Alpha", slug="alpha", order=1)
    CategoryFactory(slug="hidden", is_active=False)
    make_question(category=a)
    make_question(category=a)
    make_question(category=a, status=QuestionStatus.DRAFT)
    make_question(category=a, status=QuestionStatus.RETIRED)
    res = user_client.get("/api/v1/categories")
    assert res.status_code == 200
    assert res.json() == [
        {
            "slug": "alpha",
            "name": "Alpha",
            "description": a.description,
            "question_count": 2,
            "progress": {"answered": 0, "correct": 0, "score_percent": 0},
        },
        {
            "slug": "bravo",
            "name": "Bravo",
            "description": b.description,
            "question_count": 0,
            "progress": {"answered": 0, "correct": 0, "score_percent": 0},
        },
    ]
    assert_no_leak(res.json())


def test_progress_comes_from_the_registered_provider(user_client: APIClient, user: Any) -> None:
    cat = CategoryFactory()
    saved = progress._provider
    seen: list[Any] = []

    def provider(who: Any, ids: Any) -> dict[int, dict[str, int]]:
        seen.append(who)
        return {cat.pk: {"answered": 4, "correct": 3, "score_percent": 75}}

    progress.set_progress_provider(provider)
    try:
        res = user_client.get("/api/v1/categories")
        detail = user_client.get(f"/api/v1/categories/{cat.slug}")
    finally:
        progress.set_progress_provider(saved)
    assert res.json()[0]["progress"] == {"answered": 4, "correct": 3, "score_percent": 75}
    assert detail.json()["progress"]["score_percent"] == 75
    assert seen == [user, user]


@pytest.mark.usefixtures("no_provider")
def test_list_query_count_is_constant(
    user_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    CategoryFactory()
    with CaptureQueriesContext(connection) as ctx:
        user_client.get("/api/v1/categories")
    for _ in range(20):
        make_question(category=CategoryFactory())
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        res = user_client.get("/api/v1/categories")
    assert len(res.json()) == 21


@pytest.mark.usefixtures("no_provider")
def test_detail_with_subcategories(
    user_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    cat = CategoryFactory(slug="anatomy")
    s1 = SubcategoryFactory(category=cat, slug="upper-limb", name="Upper limb", order=1)
    SubcategoryFactory(category=cat, slug="thorax", name="Thorax", order=2)
    SubcategoryFactory(category=cat, slug="gone", is_active=False)
    make_question(category=cat, subcategory=s1)
    make_question(category=cat, subcategory=s1, status=QuestionStatus.DRAFT)
    make_question(category=cat)
    with django_assert_max_num_queries(6):
        res = user_client.get("/api/v1/categories/anatomy")
    assert res.status_code == 200
    data = res.json()
    assert data["question_count"] == 2
    assert data["subcategories"] == [
        {"slug": "upper-limb", "name": "Upper limb", "question_count": 1},
        {"slug": "thorax", "name": "Thorax", "question_count": 0},
    ]


def test_unknown_or_inactive_category_is_404(user_client: APIClient) -> None:
    CategoryFactory(slug="off", is_active=False)
    for slug in ("off", "nope"):
        res = user_client.get(f"/api/v1/categories/{slug}")
        assert res.status_code == 404
        assert res.json()["code"] == "not_found"


def test_categories_need_auth(api_client: APIClient) -> None:
    assert api_client.get("/api/v1/categories").status_code == 401
