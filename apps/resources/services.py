"""Study resources: written by staff through the API (audited here), in Django Admin (audited
there) and by the demo seed."""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record_content_change
from apps.audit.snapshots import model_snapshot
from apps.core.exceptions import ValidationFailed
from apps.core.richtext import sanitize_html
from apps.resources.models import Resource
from apps.resources.selectors import FEATURED_CACHE_KEY

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


_WRITABLE = _FIELDS | {"kind", "title", "published_at"}


def forget_featured_resources() -> None:
    """The featured list changes with this transaction: delete the shared copy once it commits
    (a cache that is down is simply skipped)."""

    def forget() -> None:
        with contextlib.suppress(Exception):  # a cache that is down: the TTL is the backstop
            cache.delete(FEATURED_CACHE_KEY)

    transaction.on_commit(forget)


def resource_snapshot(resource: Resource) -> dict[str, Any]:
    return model_snapshot(resource)


def _check(resource: Resource) -> None:
    try:
        resource.full_clean()
    except DjangoValidationError as exc:
        fields = {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
        if "__all__" in fields:
            fields["non_field_errors"] = fields.pop("__all__")
        raise ValidationFailed(next(iter(fields.values()))[0], fields=fields) from exc


@transaction.atomic
def create_resource(*, actor: Any, kind: str, title: str, url: str, **values: Any) -> Resource:
    """Creates a resource (validated, description sanitised) and audits it. Published now
    unless ``is_published`` is false or ``published_at`` says otherwise."""
    unknown = set(values) - _WRITABLE
    if unknown:
        raise ValueError(f"create_resource does not accept {sorted(unknown)}")
    resource = Resource(kind=kind, title=title, url=url, **values)
    if resource.is_published and resource.published_at is None:
        resource.published_at = timezone.now()
    resource.description = sanitize_html(resource.description)
    _check(resource)
    resource.save()
    record_content_change(
        action="resource.create",
        actor=actor,
        target=resource,
        before=None,
        after=resource_snapshot(resource),
    )
    forget_featured_resources()
    return resource


@transaction.atomic
def update_resource(*, resource: Resource, actor: Any, **changes: Any) -> Resource:
    unknown = set(changes) - _WRITABLE
    if unknown:
        raise ValueError(f"update_resource does not accept {sorted(unknown)}")
    locked = Resource.objects.select_for_update().get(pk=resource.pk)
    before = resource_snapshot(locked)
    for field, value in changes.items():
        setattr(locked, field, value)
    if locked.is_published and locked.published_at is None:
        locked.published_at = timezone.now()
    locked.description = sanitize_html(locked.description)
    _check(locked)
    locked.save()
    after = resource_snapshot(locked)
    record_content_change(
        action="resource.update", actor=actor, target=locked, before=before, after=after
    )
    forget_featured_resources()
    return locked


@transaction.atomic
def delete_resource(*, resource: Resource, actor: Any) -> None:
    record_content_change(
        action="resource.delete",
        actor=actor,
        target=resource,
        before=resource_snapshot(resource),
        after=None,
    )
    Resource.objects.filter(pk=resource.pk).delete()
    forget_featured_resources()
