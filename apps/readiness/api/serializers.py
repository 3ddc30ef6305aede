"""Output shapes of readiness (documentation of the JSON; the document is built by the
service)."""

from __future__ import annotations

from rest_framework import serializers


class AbilitySerializer(serializers.Serializer):
    theta = serializers.FloatField(
        help_text="Ability on the bank's logit scale (0: the cohort's mean)."
    )
    se = serializers.FloatField(help_text="Its standard error (posterior standard deviation).")


class UnseenOnlySerializer(serializers.Serializer):
    answered = serializers.IntegerField(help_text="Questions answered for the first time.")
    score_percent = serializers.IntegerField(
        allow_null=True, help_text="Correct at first exposure; repeats never count."
    )


class PaperReadinessSerializer(serializers.Serializer):
    paper = serializers.IntegerField()
    name = serializers.CharField()
    minimum_percent = serializers.IntegerField()
    predicted_percent = serializers.IntegerField()
    interval_80 = serializers.ListField(
        child=serializers.IntegerField(), min_length=2, max_length=2
    )
    probability_above_minimum = serializers.FloatField()


class OverallReadinessSerializer(serializers.Serializer):
    combined_pass_mark_percent = serializers.IntegerField()
    predicted_percent = serializers.IntegerField()
    interval_80 = serializers.ListField(
        child=serializers.IntegerField(), min_length=2, max_length=2
    )
    pass_probability = serializers.FloatField()


class PercentileSerializer(serializers.Serializer):
    exam_sitting = serializers.DateField()
    cohort_size = serializers.IntegerField()
    value = serializers.IntegerField()


class ModelSerializer(serializers.Serializer):
    kind = serializers.CharField()
    calibrated_at = serializers.DateTimeField()
    items = serializers.IntegerField()


class NeededSerializer(serializers.Serializer):
    answers = serializers.IntegerField(help_text="First attempts still needed.")
    categories = serializers.ListField(
        child=serializers.CharField(), help_text="Blueprint categories (slugs) still untouched."
    )


class CandidateReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "insufficient_data"])
    needed = NeededSerializer(required=False)
    message = serializers.CharField(required=False)
    ability = AbilitySerializer(allow_null=True)
    unseen_only = UnseenOnlySerializer()
    papers = PaperReadinessSerializer(many=True)
    overall = OverallReadinessSerializer(allow_null=True)
    percentile = PercentileSerializer(allow_null=True)
    model = ModelSerializer(allow_null=True)
