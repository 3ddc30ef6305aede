"""The syllabus: categories, subcategories and tags. Writes come from staff (Django Admin,
audited there) and from the demo seed; tags are also created on the fly by question writes."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.text import slugify

from apps.taxonomy.models import Category, Subcategory, Tag


def upsert_category(
    *, slug: str, name: str, description: str = "", order: int = 0, is_active: bool = True
) -> tuple[Category, bool]:
    """Creates or updates a category by slug; returns ``(category, created)``. Saves only when
    something changed, so running it twice is a no-op."""
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        return Category.objects.create(
            slug=slug, name=name, description=description, order=order, is_active=is_active
        ), True
    wanted = {"name": name, "description": description, "order": order, "is_active": is_active}
    changed = [field for field, value in wanted.items() if getattr(category, field) != value]
    for field in changed:
        setattr(category, field, wanted[field])
    if changed:
        category.save(update_fields=[*changed, "updated_at"])
    return category, False


def upsert_subcategory(
    *, category: Category, slug: str, name: str, order: int = 0
) -> tuple[Subcategory, bool]:
    subcategory, created = Subcategory.objects.get_or_create(
        category=category, slug=slug, defaults={"name": name, "order": order}
    )
    if not created and (subcategory.name != name or subcategory.order != order):
        subcategory.name, subcategory.order = name, order
        subcategory.save(update_fields=["name", "order"])
    return subcategory, created


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
