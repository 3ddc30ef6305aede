"""Reads of CMS content: published pages and the active carousel."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.cms.models import FeaturedItem, Page
from apps.core.exceptions import NotFound


def published_page(*, slug: str) -> Page:
    page = Page.objects.filter(slug=slug, is_published=True).first()
    if page is None:
        raise NotFound("No such page.")
    return page


def active_featured_items() -> QuerySet[FeaturedItem]:
    return FeaturedItem.objects.filter(is_active=True).order_by("order", "id")


def page_for_staff(*, slug: str) -> Page:
    page = Page.objects.filter(slug=slug).first()
    if page is None:
        raise NotFound("No such page.")
    return page
