"""The syllabus: categories, subcategories and tags. Staff write them in Django Admin (audited
there); the demo seed creates what is missing; question writes create tags on the fly."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.utils.text import slugify

from apps.taxonomy.models import Category, Subcategory, Tag
from apps.taxonomy.selectors import ACTIVE_CATEGORIES_KEY, GENERATION_KEY, cache_call


def ensure_category(
    *, slug: str, name: str, description: str = "", order: int = 0
) -> tuple[Category, bool]:
    """The category with this slug, created if missing. An existing category is left as staff
    edited it. Returns ``(category, created)``."""
    category, created = Category.objects.get_or_create(
        slug=slug, defaults={"name": name, "description": description, "order": order}
    )
    if created:
        transaction.on_commit(forget_active_categories)
    return category, created


def ensure_subcategory(
    *, category: Category, slug: str, name: str, order: int = 0
) -> tuple[Subcategory, bool]:
    return Subcategory.objects.get_or_create(
        category=category, slug=slug, defaults={"name": name, "order": order}
    )


def tags_for_names(*, names: Iterable[str]) -> list[Tag]:
    """The tags with these names (matched by slug), creating missing ones. Blank names are
    ignored; the result follows the order given, without duplicates."""
    wanted: dict[str, str] = {}
    for raw in names:
        name = " ".join(str(raw).split())[:60]
        slug = slugify(name)[:60]
        if name and slug and slug not in wanted:
            wanted[slug] = name
    if not wanted:
        return []
    existing = {tag.slug: tag for tag in Tag.objects.filter(slug__in=list(wanted))}
    missing = [Tag(slug=slug, name=name) for slug, name in wanted.items() if slug not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.slug: tag for tag in Tag.objects.filter(slug__in=list(wanted))}
    return [existing[slug] for slug in wanted if slug in existing]


def forget_category_question_counts() -> None:
    """Makes the next category list count published questions afresh (a new generation of
    :func:`apps.taxonomy.selectors.category_question_counts`). The question bank calls it, on
    commit, whenever a question is created, deleted, or changes status or category."""
    cache_call(None, cache.set, GENERATION_KEY, secrets.token_hex(8), None)


def forget_active_categories() -> None:
    """Drops the cached list of active categories
    (:func:`apps.taxonomy.selectors.active_category_rows`)."""
    cache_call(None, cache.delete, ACTIVE_CATEGORIES_KEY)
