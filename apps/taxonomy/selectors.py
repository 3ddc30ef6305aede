"""Reads of the syllabus. Question counts are counted through the reverse relation that the
question bank declares on ``Category``/``Subcategory`` (status "published" is the bank's
visibility rule, ``QuestionQuerySet.published``), so taxonomy never imports the bank."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.core.exceptions import NotFound
from apps.taxonomy.models import Category, Subcategory, Tag

_PUBLISHED = Q(questions__status="published")


def active_categories() -> QuerySet[Category]:
    """Active categories in syllabus order, each with ``question_count`` (published only)."""
    return (
        Category.objects.filter(is_active=True)
        .annotate(question_count=Count("questions", filter=_PUBLISHED))
        .order_by("order", "name")
    )


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
        active_categories()
        .filter(slug=slug)
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
