from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from apps.analytics.selectors import (
    HEATMAP_DEFAULT_DAYS,
    HEATMAP_MAX_DAYS,
    STUDY_RANGES,
    TRENDS_DEFAULT_WEEKS,
    TRENDS_MAX_WEEKS,
)
from apps.core.api.serializers import InputSerializer

# --- Input ---------------------------------------------------------------------------------------


class StudyTimeQuerySerializer(serializers.Serializer):
    range = serializers.ChoiceField(choices=list(STUDY_RANGES), default="week")


class HeatmapQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1, max_value=HEATMAP_MAX_DAYS, default=HEATMAP_DEFAULT_DAYS
    )


class TrendsQuerySerializer(serializers.Serializer):
    weeks = serializers.IntegerField(
        min_value=1, max_value=TRENDS_MAX_WEEKS, default=TRENDS_DEFAULT_WEEKS
    )


class HeartbeatSerializer(InputSerializer):
    seconds = serializers.IntegerField(
        min_value=1, help_text="Reading time since the previous heartbeat (at most 60)."
    )

    def validate_seconds(self, value: int) -> int:
        cap = settings.ANALYTICS_HEARTBEAT_MAX_SEC
        if value > cap:
            raise serializers.ValidationError(f"At most {cap} seconds per heartbeat.")
        return value


# --- Output --------------------------------------------------------------------------------------


class OverviewSerializer(serializers.Serializer):
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    incorrect = serializers.IntegerField()
    avg_score_percent = serializers.IntegerField(help_text="correct / answered, 0 if none.")
    study_time_minutes = serializers.FloatField(help_text="Answer time + reading time.")
    study_time_hours = serializers.FloatField()
    answer_time_minutes = serializers.FloatField()
    reading_time_minutes = serializers.FloatField()
    active_days = serializers.IntegerField(help_text="Days with at least one answer.")
    categories_started = serializers.IntegerField()


class StudyDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    minutes = serializers.FloatField()


class CategoryAnalyticsSerializer(serializers.Serializer):
    category = serializers.CharField()
    category_slug = serializers.SlugField()
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    incorrect = serializers.IntegerField()
    score_percent = serializers.IntegerField(help_text="0 when nothing answered yet.")
    last_practiced_at = serializers.DateTimeField(allow_null=True)


class HeatmapDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField(help_text="Questions answered that day.")


class TrendWeekSerializer(serializers.Serializer):
    week_start = serializers.DateField(help_text="The Monday of the week.")
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    score_percent = serializers.IntegerField(allow_null=True, help_text="null: no answers.")


class HeartbeatResultSerializer(serializers.Serializer):
    credited_seconds = serializers.IntegerField()
