from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import InputSerializer
from apps.recommendations.selectors import REASONS


class SuggestedTopicSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="The category's name.")
    category_slug = serializers.SlugField(help_text="For 'Practice Now' (POST /practice/sessions).")
    score_percent = serializers.IntegerField(help_text="0 when nothing answered yet.")
    reason = serializers.ChoiceField(choices=[(r, r) for r in REASONS])
    answered = serializers.IntegerField()
    last_practiced_at = serializers.DateTimeField(allow_null=True)


class DismissSerializer(InputSerializer):
    category_slug = serializers.SlugField(max_length=120)
