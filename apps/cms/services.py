"""CMS content: static pages and the featured carousel. Staff write them in Django Admin
(audited there); the demo seed creates missing ones through these functions. Rich text is
sanitised by the models' ``save`` (see :mod:`apps.cms.richtext`)."""

from __future__ import annotations

from apps.cms.models import FeaturedItem, Page


def ensure_page(*, slug: str, title: str, body: str) -> tuple[Page, bool]:
    """The page with this slug, created (published) if missing; an existing page is left as
    staff edited it."""
    return Page.objects.get_or_create(slug=slug, defaults={"title": title, "body": body})


def ensure_featured_item(
    *, title: str, subtitle: str = "", image_url: str = "", link_url: str = "", order: int = 0
) -> tuple[FeaturedItem, bool]:
    return FeaturedItem.objects.get_or_create(
        title=title,
        defaults={
            "subtitle": subtitle,
            "image_url": image_url,
            "link_url": link_url,
            "order": order,
        },
    )
