"""Output shapes of the study API (api-contract.md, "Study today")."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import InputSerializer


class StudyReviewsSerializer(serializers.Serializer):
    due = serializers.IntegerField(help_text="Cards due now (the overdue ones included).")
    done_today = serializers.IntegerField(
        help_text="Practice answers today to questions first answered on an earlier day (or a "
        "second answer today to one first met today)."
    )
    limit = serializers.IntegerField(help_text="The profile's `daily_review_limit`.")
    remaining = serializers.IntegerField(
        help_text="Due reviews the `today` mode would still hand out today: the due ones, no "
        "more than the limit less those done."
    )


class StudyNewSerializer(serializers.Serializer):
    available = serializers.IntegerField(
        help_text="Questions never answered in practice that can be drawn."
    )
    done_today = serializers.IntegerField(help_text="Questions first answered today.")
    limit = serializers.IntegerField(help_text="The profile's `daily_new_limit`.")
    remaining = serializers.IntegerField(
        help_text="New questions the `today` mode would still hand out today."
    )


class StudyPlanCategorySerializer(serializers.Serializer):
    category_slug = serializers.CharField()
    category = serializers.CharField()
    blueprint_questions = serializers.IntegerField(
        help_text="Questions of the category on Part A (both papers' blueprints)."
    )
    unseen_remaining = serializers.IntegerField()


class StudyForecastDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    reviews = serializers.IntegerField()


class StudyPlanSerializer(serializers.Serializer):
    exam_sitting = serializers.DateField()
    days_left = serializers.IntegerField(
        help_text="Study days from today to the day before the sitting (never negative)."
    )
    unseen_remaining = serializers.IntegerField()
    daily_new_target = serializers.IntegerField(
        help_text="New questions a day that cover the unseen ones by the sitting (rounded up)."
    )
    daily_new_limit = serializers.IntegerField()
    forecast_review_load = serializers.IntegerField(
        help_text="Mean reviews a day falling due over the next 7 days (rounded up)."
    )
    daily_review_limit = serializers.IntegerField()
    on_track = serializers.BooleanField(
        help_text="A day is left and both the new target and the review load fit the limits."
    )
    by_category = StudyPlanCategorySerializer(many=True)
    review_forecast = StudyForecastDaySerializer(many=True)


class StudyStreakSerializer(serializers.Serializer):
    current_days = serializers.IntegerField(
        help_text="Unbroken study days up to today (or yesterday, while today has none yet), "
        "in the caller's timezone; a study day has at least one answered question."
    )
    longest_days = serializers.IntegerField()
    goal_done_today = serializers.BooleanField(
        help_text="Nothing left of today's reviews and new questions within the limits."
    )
    goal_target = serializers.IntegerField(
        help_text="Today's goal: reviews and new questions done plus those still allowed."
    )
    goal_done = serializers.IntegerField(help_text="Reviews and new questions done today.")


class StudyTodaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="Today in the caller's timezone.")
    reviews = StudyReviewsSerializer()
    new = StudyNewSerializer()
    next_due_at = serializers.DateTimeField(
        allow_null=True, help_text="When the next card not yet due falls due."
    )
    plan = StudyPlanSerializer(allow_null=True, help_text="Null without `exam_sitting`.")
    streak = StudyStreakSerializer()


class CategoryMemorySerializer(serializers.Serializer):
    category_slug = serializers.CharField()
    category = serializers.CharField()
    cards = serializers.IntegerField(help_text="The caller's review cards in the category.")
    mean_retrievability = serializers.FloatField(
        help_text="Mean probability of recalling them now (FSRS), 0 to 1."
    )
    due_now = serializers.IntegerField()


class MemoryCardsQuerySerializer(InputSerializer):
    category = serializers.SlugField(
        max_length=120, required=False, help_text="Only the cards of this category."
    )
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False)


class CardRecallSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    category_slug = serializers.CharField()
    retrievability = serializers.FloatField(
        help_text="Probability of recalling the question now (FSRS), 0 to 1."
    )
    due = serializers.DateTimeField()
    last_review_at = serializers.DateTimeField(allow_null=True)
    reps = serializers.IntegerField()
    lapses = serializers.IntegerField()
