"""Study resources: written by staff in Django Admin (audited there) and by the demo seed."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.resources.models import Resource

_FIELDS = frozenset(
    {
        "author",
        "description",
        "duration_sec",
        "category",
        "url",
        "thumbnail_url",
        "captions_url",
        "alt_text",
        "is_featured",
        "is_published",
        "order",
    }
)


def ensure_resource(*, kind: str, title: str, **values: Any) -> tuple[Resource, bool]:
    """The resource with this kind and title (its natural key), created (and validated) if
    missing; an existing one is left as staff edited it. Returns ``(resource, created)``."""
    unknown = set(values) - _FIELDS
    if unknown:
        raise ValueError(f"ensure_resource does not accept {sorted(unknown)}")
    existing = Resource.objects.filter(kind=kind, title=title).first()
    if existing is not None:
        return existing, False
    resource = Resource(kind=kind, title=title, published_at=timezone.now(), **values)
    resource.full_clean()
    resource.save()
    return resource, True
