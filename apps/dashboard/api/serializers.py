"""The dashboard document (api-contract.md); used for the OpenAPI schema and tests' shape."""

from __future__ import annotations

from rest_framework import serializers

from apps.recommendations.api.serializers import EvidenceSerializer


class OverallProgressSerializer(serializers.Serializer):
    completed = serializers.IntegerField(
        help_text="Active categories with answered >= COMPLETION_MIN_ANSWERED and score >= "
        "COMPLETION_MIN_SCORE_PERCENT."
    )
    total = serializers.IntegerField(help_text="Active categories.")


class PerformanceSerializer(serializers.Serializer):
    avg_score_percent = serializers.IntegerField(help_text="correct / answered over all answers.")
    correct = serializers.IntegerField()
    incorrect = serializers.IntegerField()


class StudyTimeSerializer(serializers.Serializer):
    hours_this_week = serializers.FloatField(
        help_text="The caller's week (profile timezone, Monday start), one decimal."
    )
    delta_vs_last_week = serializers.FloatField(help_text="This week minus the whole last week.")


class LastPracticeSerializer(serializers.Serializer):
    days_ago = serializers.IntegerField(help_text="Calendar days, in the caller's timezone.")
    score_percent = serializers.IntegerField()
    correct = serializers.IntegerField()
    incorrect = serializers.IntegerField()
    categories = serializers.ListField(child=serializers.CharField())


class LastExamSerializer(serializers.Serializer):
    days_ago = serializers.IntegerField()
    exam = serializers.CharField(help_text="The exam template's name.")
    score_percent = serializers.IntegerField()
    time_spent_min = serializers.IntegerField()
    answered = serializers.IntegerField()


class RecentActivitySerializer(serializers.Serializer):
    last_practice = LastPracticeSerializer(allow_null=True)
    last_exam = LastExamSerializer(allow_null=True)


class DashboardTopicSerializer(serializers.Serializer):
    category = serializers.CharField()
    category_slug = serializers.SlugField()
    score_percent = serializers.IntegerField()
    reason = serializers.CharField()
    evidence = EvidenceSerializer(help_text="As on GET /recommendations/topics.")
    computed_at = serializers.DateTimeField()


class FeaturedResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    duration_sec = serializers.IntegerField(allow_null=True)
    url = serializers.URLField()
    thumbnail_url = serializers.CharField(allow_blank=True)


class NextActionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["reviews", "new", "topic"])
    # "label" is also a Field attribute in the stubs; here it is the output field's name.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text='e.g. "12 reviews due", "20 new in Anatomy: +1.4 marks expected"'
    )
    category_slug = serializers.SlugField(allow_null=True)
    expected_gain_marks = serializers.FloatField(
        allow_null=True, help_text="Marks on Part A expected from doing it (null for reviews)."
    )


class DashboardTodaySerializer(serializers.Serializer):
    reviews_due = serializers.IntegerField(
        help_text="Due reviews the `today` practice mode would hand out now (within the daily "
        "review limit); see GET /study/today."
    )
    new_remaining = serializers.IntegerField(
        help_text="New questions today's limit still allows (and the bank still holds)."
    )
    streak_days = serializers.IntegerField(
        help_text="Unbroken study days up to today (or yesterday, while today has none yet), "
        "in the learner's timezone."
    )
    next_action = NextActionSerializer(
        allow_null=True, help_text="The single most valuable thing to do now."
    )


class DashboardReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "insufficient_data", "not_entitled"])
    pass_probability = serializers.FloatField(
        allow_null=True,
        help_text="The chance of passing Part A (null until readiness has enough data).",
    )


class DashboardSerializer(serializers.Serializer):
    overall_progress = OverallProgressSerializer()
    performance = PerformanceSerializer()
    study_time = StudyTimeSerializer()
    recent_activity = RecentActivitySerializer()
    suggested_topics = DashboardTopicSerializer(many=True)
    featured_resources = FeaturedResourceSerializer(many=True)
    today = DashboardTodaySerializer()
    readiness = DashboardReadinessSerializer()
