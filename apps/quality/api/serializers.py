"""Shapes of the staff item-quality API (api-contract.md, "Staff: item quality")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.quality.selectors import (
    DEFAULT_QUEUE_ORDERING,
    FLAG_REPORTED,
    QUEUE_FLAGS,
    QUEUE_ORDERINGS,
    stem_excerpt,
)


class QualityQueueQuerySerializer(serializers.Serializer):
    flag = serializers.ChoiceField(choices=list(QUEUE_FLAGS), required=False)
    ordering = serializers.ChoiceField(
        choices=list(QUEUE_ORDERINGS), default=DEFAULT_QUEUE_ORDERING
    )


class QualityItemSerializer(serializers.Serializer):
    """One question in the quality queue: its latest analysed version."""

    id = serializers.IntegerField(source="question_id")
    version = serializers.IntegerField()
    stem_excerpt = serializers.SerializerMethodField()
    n = serializers.IntegerField()
    facility = serializers.FloatField(allow_null=True)
    discrimination = serializers.FloatField(allow_null=True)
    flags = serializers.SerializerMethodField()
    suspected_option_id = serializers.IntegerField(allow_null=True)
    open_reports = serializers.IntegerField()

    @extend_schema_field(serializers.CharField())
    def get_stem_excerpt(self, row: Any) -> str:
        return stem_excerpt(row.question.stem)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_flags(self, row: Any) -> list[str]:
        flags = list(row.flags)
        return [*flags, FLAG_REPORTED] if row.open_reports else flags


class OptionStatsSerializer(serializers.Serializer):
    option_id = serializers.IntegerField()
    is_key = serializers.BooleanField()
    picked_percent = serializers.IntegerField()
    by_quintile = serializers.ListField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Percent picking it in each fifth of candidates by rest score, lowest first.",
    )
    point_biserial = serializers.FloatField(allow_null=True)


class IrtSerializer(serializers.Serializer):
    difficulty = serializers.FloatField(help_text="Rasch difficulty, logits (0: average).")
    se = serializers.FloatField()
    n = serializers.IntegerField(help_text="First attempts behind the calibration.")
    infit = serializers.FloatField(allow_null=True)
    outfit = serializers.FloatField(allow_null=True)


class VersionStatsSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField(allow_null=True)
    n = serializers.IntegerField()
    facility = serializers.FloatField(allow_null=True)
    discrimination = serializers.FloatField(allow_null=True)
    upper_lower_index = serializers.FloatField(allow_null=True)
    median_time_sec = serializers.FloatField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())
    suspected_option_id = serializers.IntegerField(allow_null=True)
    options = OptionStatsSerializer(many=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    irt = IrtSerializer(
        allow_null=True, help_text="The latest nightly Rasch calibration of this version."
    )


class QuestionStatsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    versions = VersionStatsSerializer(many=True)


class AnalysisQueuedSerializer(serializers.Serializer):
    status = serializers.CharField()
