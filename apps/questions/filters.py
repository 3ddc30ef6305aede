"""Filters of the question list: ``category``, ``subcategory`` and ``tag`` (slugs),
``difficulty``, ``type``, ``search`` (full text), and for staff ``status``."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from apps.questions.models import Question, QuestionStatus, QuestionType
from apps.questions.selectors import search_questions


class QuestionFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug")
    subcategory = django_filters.CharFilter(field_name="subcategory__slug")
    tag = django_filters.CharFilter(field_name="tags__slug", distinct=False)
    difficulty = django_filters.NumberFilter(field_name="difficulty")
    type = django_filters.ChoiceFilter(choices=QuestionType.choices)
    status = django_filters.ChoiceFilter(choices=QuestionStatus.choices)
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Question
        fields = ("category", "subcategory", "tag", "difficulty", "type", "status", "search")

    def filter_search(
        self, queryset: QuerySet[Question], name: str, value: str
    ) -> QuerySet[Question]:
        return search_questions(queryset, value)
