from __future__ import annotations

from rest_framework import serializers

from apps.resources.models import ResourceKind


class ResourceCategorySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class ResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ResourceKind.choices)
    title = serializers.CharField()
    author = serializers.CharField()
    description = serializers.CharField(help_text="Sanitised HTML.")
    duration_sec = serializers.IntegerField(allow_null=True)
    category = ResourceCategorySerializer(allow_null=True)
    url = serializers.URLField()
    thumbnail_url = serializers.CharField()
    captions_url = serializers.CharField()
    alt_text = serializers.CharField()
    is_featured = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)
