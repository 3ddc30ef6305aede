"""Suggested topics and their dismissal: thin views over ``selectors`` and ``services``."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.api.schema import error_responses
from apps.recommendations import selectors, services
from apps.recommendations.api import serializers as s


def _user_id(request: Request) -> int:
    user_id = request.user.pk
    assert user_id is not None  # IsAuthenticated (the default permission) guarantees a user  # nosec B101
    return int(user_id)


TAGS = ["recommendations"]


class SuggestedTopicsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Suggested topics for the caller",
        description=(
            "Up to 5 active categories to practise next, ranked by `evidence.expected_gain_marks`"
            " (marks on Part A an hour of practice there is expected to gain: the category's "
            "blueprint weight, the expected score there, unseen questions left and memory "
            "decay). `reason` says why in words: 'Low Score' (enough answers, low score), "
            "'Needs Review' (not practised for a while), 'Not Started', 'Keep Practising'; "
            "`evidence.threshold` is the rule that gave it. Stored rankings (nightly, and "
            "recomputed when older than the latest answer by `RECOMMENDATION_STALE_SECONDS`); "
            "`computed_at` says when. Recently dismissed categories are hidden. A plain array."
        ),
        responses={200: s.SuggestedTopicSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        topics = selectors.suggested_topics(
            user_id=_user_id(request), user=cast(User, request.user)
        )
        return Response(s.SuggestedTopicSerializer(topics, many=True).data)


class DismissTopicView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Hide a suggested topic for a while",
        description=(
            "Hides the category from the caller's suggestions (and dashboard) for "
            "`RECOMMENDATION_DISMISS_DAYS` days; dismissing again restarts the period. An "
            "unknown or inactive slug is a 400 on `category_slug`."
        ),
        request=s.DismissSerializer,
        responses={204: None, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = s.DismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.dismiss_topic(
            user_id=_user_id(request), category_slug=data.validated_data["category_slug"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
