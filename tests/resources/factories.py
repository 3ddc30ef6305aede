from __future__ import annotations

import factory
from django.utils import timezone

from apps.resources.models import Resource, ResourceKind


class ResourceFactory(factory.django.DjangoModelFactory[Resource]):
    class Meta:
        model = Resource

    kind = ResourceKind.VIDEO
    title = factory.Sequence(lambda n: f"Resource {n}")
    author = "Ms A Surgeon FRCS"
    description = "<p>Useful.</p>"
    duration_sec = 600
    url = factory.Sequence(lambda n: f"https://learn.example.com/r/{n}")
    thumbnail_url = factory.Sequence(lambda n: f"https://cdn.example.com/t/{n}.jpg")
    is_featured = False
    is_published = True
    published_at = factory.LazyFunction(timezone.now)
    order = factory.Sequence(lambda n: n)
