"""Reads of study resources. Candidates see published resources only."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.exceptions import NotFound
from apps.resources.models import Resource


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


def resource_detail(*, resource_id: int, staff: bool = False) -> Resource:
    resource = resources_for(staff=staff).filter(pk=resource_id).first()
    if resource is None:
        raise NotFound("No such resource.")
    return resource
