"""Filters of the resource list: ``featured``, ``category`` (slug) and ``kind``."""

from __future__ import annotations

import django_filters

from apps.resources.models import Resource, ResourceKind


class ResourceFilter(django_filters.FilterSet):
    featured = django_filters.BooleanFilter(field_name="is_featured")
    category = django_filters.CharFilter(field_name="category__slug")
    kind = django_filters.ChoiceFilter(choices=ResourceKind.choices)

    class Meta:
        model = Resource
        fields = ("featured", "category", "kind")
