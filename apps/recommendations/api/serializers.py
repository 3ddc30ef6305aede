from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import InputSerializer
from apps.recommendations.selectors import REASONS


class ThresholdSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(
        choices=["low_score", "needs_review", "not_started", "keep_practising"]
    )
    below_percent = serializers.IntegerField(required=False)
    min_answered = serializers.IntegerField(required=False)
    after_days = serializers.IntegerField(required=False)


class EvidenceSerializer(serializers.Serializer):
    answered = serializers.IntegerField()
    score_percent = serializers.IntegerField()
    threshold = ThresholdSerializer(help_text="The rule that gave the reason, and its numbers.")
    unseen_remaining = serializers.IntegerField(help_text="Bank questions never answered.")
    mean_retrievability = serializers.FloatField(
        allow_null=True, help_text="Mean recall probability of the category's cards now (FSRS)."
    )
    blueprint_weight = serializers.FloatField(help_text="The category's share of Part A's marks.")
    expected_score_percent = serializers.IntegerField(
        help_text="Expected score on the category's unseen questions (readiness model)."
    )
    expected_gain_marks = serializers.FloatField(
        help_text="Marks on Part A an hour of practice here is expected to gain (the rank)."
    )
    gain_from = serializers.ChoiceField(choices=["new_questions", "reviews"])


class SuggestedTopicSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="The category's name.")
    category_slug = serializers.SlugField(help_text="For 'Practice Now' (POST /practice/sessions).")
    score_percent = serializers.IntegerField(help_text="0 when nothing answered yet.")
    reason = serializers.ChoiceField(choices=[(r, r) for r in REASONS])
    answered = serializers.IntegerField()
    last_practiced_at = serializers.DateTimeField(allow_null=True)
    evidence = EvidenceSerializer()
    computed_at = serializers.DateTimeField()


class DismissSerializer(InputSerializer):
    category_slug = serializers.SlugField(max_length=120)
