from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import InputSerializer


class PageSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    body = serializers.CharField(help_text="Sanitised HTML.")
    updated_at = serializers.DateTimeField()


class FeaturedItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    image_url = serializers.CharField()
    link_url = serializers.CharField()
    order = serializers.IntegerField()


class PageStaffSerializer(PageSerializer):
    is_published = serializers.BooleanField()


class PageWriteSerializer(InputSerializer):
    slug = serializers.SlugField(max_length=100)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=200000, allow_blank=True, required=False)
    is_published = serializers.BooleanField(required=False)
