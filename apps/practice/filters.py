"""List filters of the practice API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from apps.practice.models import PracticeSession, QuestionFlag


class PracticeSessionFilter(django_filters.FilterSet):
    completed = django_filters.BooleanFilter(
        method="filter_completed", label="true: completed sessions only; false: open ones."
    )

    class Meta:
        model = PracticeSession
        fields: list[str] = []

    def filter_completed(
        self, queryset: QuerySet[PracticeSession], name: str, value: bool
    ) -> QuerySet[PracticeSession]:
        return queryset.filter(completed_at__isnull=not value)


class QuestionFlagFilter(django_filters.FilterSet):
    is_flagged = django_filters.BooleanFilter(
        label="true: flagged questions; false: notes on unflagged questions."
    )

    class Meta:
        model = QuestionFlag
        fields = ["is_flagged"]
