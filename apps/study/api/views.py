"""The study engine's API: the caller's day and their memory. Thin: one selector each.

Both read only the caller's own cards and record, so there is nothing of anyone else to find;
every authenticated user (candidates and staff who practise alike) has a study day."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.api.schema import error_responses
from apps.practice.models import ReviewCard
from apps.study import selectors
from apps.study.api.serializers import (
    CardRecallSerializer,
    CategoryMemorySerializer,
    MemoryCardsQuerySerializer,
    StudyTodaySerializer,
)


def _user(request: Request) -> User:
    """The caller (every view here requires authentication: the default permission)."""
    return cast(User, request.user)


class StudyTodayView(APIView):
    @extend_schema(
        tags=["study"],
        summary="The caller's study day",
        description=(
            "Today in the caller's timezone (the day starts at their local midnight): reviews "
            "due and done, new questions available and done, each against the profile's daily "
            "limit and with what the `today` practice mode would still hand out "
            "(`POST /practice/sessions` with `mode: today`); when the next card falls due; "
            "the plan to `exam_sitting` (null without one); the streak and today's goal. A "
            "fixed number of queries whatever the caller's history."
        ),
        responses={200: StudyTodaySerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(StudyTodaySerializer(selectors.study_today(user=_user(request))).data)


class MemoryView(APIView):
    @extend_schema(
        tags=["analytics"],
        summary="What the caller can recall now, per category",
        description=(
            "Per category holding at least one of the caller's review cards (in syllabus "
            "order): the cards, their mean retrievability now (the probability of recalling "
            "each, by FSRS with the caller's own weights once fitted), and how many are due. "
            "A plain array; three queries whatever the number of cards."
        ),
        responses={200: CategoryMemorySerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        rows = selectors.memory_by_category(user=_user(request))
        return Response(CategoryMemorySerializer(rows, many=True).data)


class MemoryCardsView(generics.GenericAPIView[ReviewCard]):
    serializer_class = CardRecallSerializer
    queryset = ReviewCard.objects.none()  # for the schema; get() reads the caller's own cards

    @extend_schema(
        tags=["analytics"],
        summary="What the caller can recall now, per card",
        description=(
            "The caller's review cards, most overdue first, each with its retrievability now "
            "(FSRS, with the caller's own weights once fitted), due time and reviews; "
            "`?category=<slug>` narrows them to one category (an unknown slug is a 400). "
            "Paginated; a fixed number of queries whatever the page size."
        ),
        parameters=[MemoryCardsQuerySerializer],
        responses={200: CardRecallSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = MemoryCardsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = _user(request)
        cards = selectors.memory_cards(
            user_id=user.pk, category_slug=query.validated_data.get("category")
        )
        page = self.paginate_queryset(cards)
        rows = selectors.recall_of(user=user, cards=page or [])
        return self.get_paginated_response(CardRecallSerializer(rows, many=True).data)
