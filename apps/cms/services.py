"""CMS content: static pages and the featured carousel. Staff write pages through the API
(audited here) or in Django Admin (audited there); the demo seed creates missing ones. Rich text is
sanitised by the models' ``save`` (see :mod:`apps.core.richtext`)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.audit.services import record_content_change
from apps.audit.snapshots import model_snapshot
from apps.cms.models import FeaturedItem, Page
from apps.core.exceptions import ValidationFailed


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


def page_snapshot(page: Page) -> dict[str, Any]:
    return model_snapshot(page)


@transaction.atomic
def create_page(
    *, actor: Any, slug: str, title: str, body: str = "", is_published: bool = True
) -> Page:
    """Creates a page (body sanitised) and audits it; a taken slug is a 400."""
    if Page.objects.filter(slug=slug).exists():
        raise ValidationFailed("A page with this slug exists.", fields={"slug": ["Taken."]})
    page = Page.objects.create(slug=slug, title=title, body=body, is_published=is_published)
    record_content_change(
        action="page.create", actor=actor, target=page, before=None, after=page_snapshot(page)
    )
    return page


@transaction.atomic
def update_page(*, page: Page, actor: Any, **changes: Any) -> Page:
    unknown = set(changes) - {"title", "body", "is_published"}
    if unknown:
        raise ValueError(f"update_page does not accept {sorted(unknown)}")
    locked = Page.objects.select_for_update().get(pk=page.pk)
    before = page_snapshot(locked)
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.save()
    after = page_snapshot(locked)
    record_content_change(
        action="page.update", actor=actor, target=locked, before=before, after=after
    )
    return locked


@transaction.atomic
def delete_page(*, page: Page, actor: Any) -> None:
    record_content_change(
        action="page.delete", actor=actor, target=page, before=page_snapshot(page), after=None
    )
    Page.objects.filter(pk=page.pk).delete()
