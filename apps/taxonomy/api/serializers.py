from __future__ import annotations

from rest_framework import serializers


class ProgressSerializer(serializers.Serializer):
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    score_percent = serializers.IntegerField()


class CategorySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    question_count = serializers.IntegerField()
    progress = serializers.SerializerMethodField()

    def get_progress(self, obj: object) -> dict[str, int]:
        progress: dict[int, dict[str, int]] = self.context.get("progress", {})
        return progress.get(obj.pk, {"answered": 0, "correct": 0, "score_percent": 0})  # type: ignore[attr-defined]


class SubcategorySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    question_count = serializers.IntegerField()


class CategoryDetailSerializer(CategorySerializer):
    subcategories = SubcategorySerializer(many=True, source="subcategories.all")
