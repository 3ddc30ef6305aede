"""Reads of study resources. Candidates see published resources only."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from apps.core.exceptions import NotFound
from apps.resources.models import Resource

logger = logging.getLogger("apps.resources")

# The featured list is the same for everyone; the resources services and admin delete it on
# every change (apps.resources.services.forget_featured_resources), the TTL is only a backstop.
FEATURED_CACHE_KEY = "resources:featured:v1"


def published_resources() -> QuerySet[Resource]:
    """Published resources (not scheduled for later, not under an inactive category), in the
    editors' order, with their category joined."""
    return (
        Resource.objects.published()
        .select_related("category")
        .order_by("order", "-published_at", "id")
    )


def resources_for(*, staff: bool = False) -> QuerySet[Resource]:
    """Published resources, or every resource for staff."""
    if not staff:
        return published_resources()
    return Resource.objects.select_related("category").order_by("order", "-published_at", "id")


def featured_resources(*, limit: int = 6) -> list[Resource]:
    return list(published_resources().filter(is_featured=True)[:limit])


def featured_resource_rows(*, limit: int = 6) -> list[dict[str, Any]]:
    """Featured resources in the dashboard's shape, cached for everyone; computed (never
    failed) when the cache is down."""
    try:
        cached = cache.get(FEATURED_CACHE_KEY)
    except Exception:
        logger.warning("cache read failed", exc_info=True)
        cached = None
    if isinstance(cached, list):
        return cached[:limit]
    rows = [
        {
            "id": r.pk,
            "kind": r.kind,
            "title": r.title,
            "duration_sec": r.duration_sec,
            "url": r.url,
            "thumbnail_url": r.thumbnail_url,
        }
        for r in featured_resources(limit=limit)
    ]
    try:
        cache.set(FEATURED_CACHE_KEY, rows, settings.FEATURED_RESOURCES_CACHE_SECONDS)
    except Exception:
        logger.warning("cache write failed", exc_info=True)
    return rows


def resource_detail(*, resource_id: int, staff: bool = False) -> Resource:
    resource = resources_for(staff=staff).filter(pk=resource_id).first()
    if resource is None:
        raise NotFound("No such resource.")
    return resource
