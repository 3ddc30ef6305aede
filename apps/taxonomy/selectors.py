"""Reads of the syllabus. Question counts are counted through the reverse relation that the
question bank declares on ``Category``/``Subcategory`` (status "published" is the bank's
visibility rule, ``QuestionQuerySet.published``), so taxonomy never imports the bank."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet

from apps.core.exceptions import NotFound
from apps.taxonomy.models import Category, Subcategory, Tag

_PUBLISHED = Q(questions__status="published")

logger = logging.getLogger("apps.taxonomy")
_T = TypeVar("_T")


def cache_call(default: _T, call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)`` on the cache, or ``default`` (logged) when the cache fails: these caches
    only save work, so a cache outage never fails a request."""
    try:
        return call(*args)
    except Exception:
        logger.warning("cache call failed", exc_info=True)
        return default


# Published question counts per category, shared by every caller of the category list. The
# question bank's services forget them when a question's status or category changes (after
# commit), so a publish shows at once; the TTL bounds any change made elsewhere (a Django
# Admin form save, a shell). The cached value carries the generation it was computed under:
# forgetting starts a new generation, so a count computed before a change and stored after
# it is never used.
QUESTION_COUNTS_TTL_SEC = 180
COUNTS_KEY = "taxonomy:category-question-counts:v1"
GENERATION_KEY = "taxonomy:category-question-counts:generation"


def _generation() -> str | None:
    cache_call(False, cache.add, GENERATION_KEY, secrets.token_hex(8), None)
    generation = cache_call(None, cache.get, GENERATION_KEY)
    return generation if isinstance(generation, str) else None


def category_question_counts() -> dict[int, int]:
    """``{category_id: published questions}`` (categories without any are left out), cached
    for :data:`QUESTION_COUNTS_TTL_SEC` seconds and forgotten by the question bank's writes."""
    got = cache_call({}, cache.get_many, [GENERATION_KEY, COUNTS_KEY])
    generation = got.get(GENERATION_KEY)
    cached = got.get(COUNTS_KEY)
    if generation is not None and cached is not None and cached[0] == generation:
        return dict(cached[1])
    if generation is None:
        generation = _generation()
    counts = dict(
        Category.objects.annotate(n=Count("questions", filter=_PUBLISHED))
        .filter(n__gt=0)
        .values_list("pk", "n")
    )
    if generation is not None:  # None only when the cache is unreachable
        cache_call(None, cache.set, COUNTS_KEY, (generation, counts), QUESTION_COUNTS_TTL_SEC)
    return counts


ACTIVE_CATEGORIES_TTL_SEC = 60
ACTIVE_CATEGORIES_KEY = "taxonomy:active-category-rows:v1"


def active_category_rows() -> list[tuple[int, str, str, int]]:
    """``(id, slug, name, order)`` of the active categories in syllabus order (order, name,
    id), shared by everyone and cached for :data:`ACTIVE_CATEGORIES_TTL_SEC` seconds: a
    category created by :mod:`apps.taxonomy.services` shows at once, an edit in Django Admin
    (a rename, a new order, deactivation) within that time. With the cache down it is read
    live."""
    cached = cache_call(None, cache.get, ACTIVE_CATEGORIES_KEY)
    if isinstance(cached, list):
        return [tuple(row) for row in cached]
    rows = [
        (int(pk), str(slug), str(name), int(order))
        for pk, slug, name, order in Category.objects.filter(is_active=True)
        .order_by("order", "name", "id")
        .values_list("id", "slug", "name", "order")
    ]
    cache_call(None, cache.set, ACTIVE_CATEGORIES_KEY, rows, ACTIVE_CATEGORIES_TTL_SEC)
    return rows


def active_categories() -> list[Category]:
    """Active categories in syllabus order, each with ``question_count`` (published only, from
    :func:`category_question_counts`): one query when the counts are cached."""
    counts = category_question_counts()
    categories = list(Category.objects.filter(is_active=True).order_by("order", "name"))
    for category in categories:
        category.question_count = counts.get(category.pk, 0)  # type: ignore[attr-defined]
    return categories


def active_subcategories() -> QuerySet[Subcategory]:
    return (
        Subcategory.objects.filter(is_active=True, category__is_active=True)
        .annotate(question_count=Count("questions", filter=_PUBLISHED))
        .order_by("order", "name")
    )


def category_detail(*, slug: str) -> Category:
    """One active category with its active subcategories (``question_count`` on each) in two
    queries. Unknown or inactive slugs raise :class:`NotFound`."""
    subcategories = active_subcategories().order_by("order", "name")
    category = (
        Category.objects.filter(is_active=True, slug=slug)
        .annotate(question_count=Count("questions", filter=_PUBLISHED))
        .prefetch_related(Prefetch("subcategories", queryset=subcategories))
        .first()
    )
    if category is None:
        raise NotFound("No such category.")
    return category


def category_by_slug(*, slug: str, active_only: bool = True) -> Category | None:
    qs = Category.objects.filter(slug=slug)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.first()


def all_tags() -> QuerySet[Tag]:
    return Tag.objects.all()
