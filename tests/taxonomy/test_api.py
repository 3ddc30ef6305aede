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
    """Nothing started: the provider reports no category."""
    with progress.progress_provider.override(lambda user, ids: {}):
        yield


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
    seen: list[Any] = []

    def provider(who: Any, ids: Any) -> dict[int, dict[str, int]]:
        seen.append(who)
        return {cat.pk: {"answered": 4, "correct": 3, "score_percent": 75}}

    with progress.progress_provider.override(provider):
        res = user_client.get("/api/v1/categories")
        detail = user_client.get(f"/api/v1/categories/{cat.slug}")
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


# --- Cached published counts ----------------------------------------------------------------


def _counts(client: APIClient) -> dict[str, int]:
    return {c["slug"]: c["question_count"] for c in client.get("/api/v1/categories").json()}


@pytest.mark.usefixtures("no_provider")
def test_a_cached_list_counts_questions_without_scanning_them(
    user_client: APIClient,
) -> None:
    cat = CategoryFactory(slug="anatomy")
    make_question(category=cat)
    assert _counts(user_client) == {"anatomy": 1}  # computed and cached
    with CaptureQueriesContext(connection) as ctx:
        assert _counts(user_client) == {"anatomy": 1}
    assert not [q for q in ctx.captured_queries if "questions_question" in q["sql"]]


@pytest.mark.usefixtures("no_provider")
def test_a_publish_retire_move_and_delete_show_in_the_list_at_once(
    user_client: APIClient,
    editor_client: APIClient,
    django_capture_on_commit_callbacks: Any,
) -> None:
    anatomy = CategoryFactory(slug="anatomy", order=1)
    CategoryFactory(slug="physiology", order=2)
    draft = make_question(category=anatomy, status=QuestionStatus.DRAFT)
    assert _counts(user_client) == {"anatomy": 0, "physiology": 0}

    url = f"/api/v1/questions/{draft.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        assert editor_client.patch(url, {"status": "published"}, format="json").status_code == 200
    assert _counts(user_client) == {"anatomy": 1, "physiology": 0}

    with django_capture_on_commit_callbacks(execute=True):
        res = editor_client.patch(url, {"category": "physiology"}, format="json")
        assert res.status_code == 200, res.json()
    assert _counts(user_client) == {"anatomy": 0, "physiology": 1}

    with django_capture_on_commit_callbacks(execute=True):
        assert editor_client.patch(url, {"status": "retired"}, format="json").status_code == 200
    assert _counts(user_client) == {"anatomy": 0, "physiology": 0}

    make_question(category=anatomy)  # made directly: counted once something invalidates
    with django_capture_on_commit_callbacks(execute=True):
        created = editor_client.post(
            "/api/v1/questions",
            {
                "stem": "Which nerve supplies the deltoid muscle?",
                "category": "anatomy",
                "status": "published",
                "options": [
                    {"text": "Axillary", "is_correct": True},
                    {"text": "Radial", "is_correct": False},
                ],
            },
            format="json",
        )
        assert created.status_code == 201, created.json()
    assert _counts(user_client) == {"anatomy": 2, "physiology": 0}

    with django_capture_on_commit_callbacks(execute=True):
        deleted = editor_client.delete(f"/api/v1/questions/{created.json()['id']}")
        assert deleted.status_code == 204
    assert _counts(user_client) == {"anatomy": 1, "physiology": 0}


@pytest.mark.usefixtures("no_provider")
def test_a_rolled_back_publish_leaves_the_cached_counts(
    user_client: APIClient, editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    from apps.questions.services import publish_question

    cat = CategoryFactory(slug="anatomy")
    draft = make_question(category=cat, status=QuestionStatus.DRAFT)
    assert _counts(user_client) == {"anatomy": 0}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                publish_question(question=draft, actor=editor)
                raise RuntimeError("abort")
        except RuntimeError:
            pass
    assert callbacks == []
    assert _counts(user_client) == {"anatomy": 0}


# --- The shared list of active categories ----------------------------------------------------


def test_active_category_rows_are_cached_and_a_new_category_shows_at_once(
    django_assert_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.taxonomy.selectors import active_category_rows
    from apps.taxonomy.services import ensure_category

    b = CategoryFactory(slug="bravo", name="Bravo", order=2)
    a = CategoryFactory(slug="alpha", name="Alpha", order=1)
    CategoryFactory(slug="hidden", is_active=False)
    expected = [(a.pk, "alpha", "Alpha", 1), (b.pk, "bravo", "Bravo", 2)]
    assert active_category_rows() == expected
    with django_assert_num_queries(0):
        assert active_category_rows() == expected
    with django_capture_on_commit_callbacks(execute=True):
        c, created = ensure_category(slug="charlie", name="Charlie", order=3)
    assert created
    assert active_category_rows() == [*expected, (c.pk, "charlie", "Charlie", 3)]


def test_the_shared_caches_fall_back_to_the_database_when_the_cache_raises(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.cache import cache

    from apps.questions.services import publish_question
    from apps.taxonomy.selectors import active_categories, active_category_rows
    from tests.dashboard.conftest import dead_cache

    cat = CategoryFactory(slug="anatomy", name="Anatomy", order=1)
    make_question(category=cat)
    draft = make_question(category=cat, status=QuestionStatus.DRAFT)
    settings.DJANGO_REDIS_IGNORE_EXCEPTIONS = False
    settings.CACHES = dead_cache(ignore_exceptions=False)
    with pytest.raises(Exception):  # noqa: B017 - any connection error will do
        cache.get("probe")
    assert [(c.slug, c.question_count) for c in active_categories()] == [("anatomy", 1)]
    assert active_category_rows() == [(cat.pk, "anatomy", "Anatomy", 1)]
    with django_capture_on_commit_callbacks(execute=True):  # forgetting fails quietly too
        publish_question(question=draft, actor=None)
    assert [(c.slug, c.question_count) for c in active_categories()] == [("anatomy", 2)]
