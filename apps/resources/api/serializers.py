from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import InputSerializer
from apps.resources.models import ResourceKind
from apps.taxonomy.models import Category
from apps.taxonomy.selectors import category_by_slug


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


class ResourceStaffSerializer(ResourceSerializer):
    is_published = serializers.BooleanField()
    order = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ResourceWriteSerializer(InputSerializer):
    kind = serializers.ChoiceField(choices=ResourceKind.choices)
    title = serializers.CharField(max_length=200)
    author = serializers.CharField(max_length=200, allow_blank=True, required=False)
    description = serializers.CharField(max_length=20000, allow_blank=True, required=False)
    duration_sec = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    category = serializers.SlugField(allow_null=True, required=False)
    url = serializers.URLField(max_length=500)
    thumbnail_url = serializers.URLField(max_length=500, allow_blank=True, required=False)
    captions_url = serializers.URLField(max_length=500, allow_blank=True, required=False)
    alt_text = serializers.CharField(max_length=300, allow_blank=True, required=False)
    is_featured = serializers.BooleanField(required=False)
    is_published = serializers.BooleanField(required=False)
    published_at = serializers.DateTimeField(allow_null=True, required=False)
    order = serializers.IntegerField(min_value=0, required=False)

    def validate_category(self, value: str | None) -> Category | None:
        if not value:
            return None
        category = category_by_slug(slug=value, active_only=False)
        if category is None:
            raise serializers.ValidationError("Unknown category.")
        return category
