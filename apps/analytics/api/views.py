"""The caller's analytics: thin views over ``selectors`` (aggregates only) and the reading-time
heartbeat. Days and weeks are the caller's own (profile timezone, weeks start on Monday)."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.analytics import selectors, services
from apps.analytics.api import serializers as s
from apps.core.api.schema import error_responses


def _user_id(request: Request) -> int:
    user_id = request.user.pk
    assert user_id is not None  # IsAuthenticated (the default permission) guarantees a user  # nosec B101
    return int(user_id)


def _user(request: Request) -> User:
    """The caller (every view here requires authentication: the default permission)."""
    return cast(User, request.user)


TAGS = ["analytics"]


class OverviewView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Totals over the caller's whole record",
        description=(
            "Average score (correct / answered), correct and incorrect totals, questions "
            "answered, and study time (counted answer time plus reading time)."
        ),
        responses={200: s.OverviewSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(s.OverviewSerializer(selectors.overview(user=_user(request))).data)


class StudyTimeView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Daily study minutes for a chart",
        description=(
            "`range=week` (default): the caller's current week, Monday to Sunday; `range=month`: "
            "the current calendar month. One entry per day, zeros included (days still to come "
            "as well), oldest first. Minutes are answer time plus reading time, one decimal."
        ),
        parameters=[s.StudyTimeQuerySerializer],
        responses={200: s.StudyDaySerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = s.StudyTimeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        series = selectors.study_time_series(
            user=_user(request), period=query.validated_data["range"]
        )
        return Response(s.StudyDaySerializer(series, many=True).data)


class CategoriesView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The caller's progress per category",
        description="Every active category in syllabus order; zeros and null if not started.",
        responses={200: s.CategoryAnalyticsSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        rows = selectors.category_breakdown(user_id=_user_id(request))
        return Response(s.CategoryAnalyticsSerializer(rows, many=True).data)


class HeatmapView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Questions answered per day, for a calendar heatmap",
        description=(
            "The last `days` days (default 365, at most 366) up to and including the caller's "
            "today, oldest first, zeros included."
        ),
        parameters=[s.HeatmapQuerySerializer],
        responses={200: s.HeatmapDaySerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = s.HeatmapQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = selectors.heatmap(user=_user(request), days=query.validated_data["days"])
        return Response(s.HeatmapDaySerializer(days, many=True).data)


class TrendsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Score per week",
        description=(
            "The last `weeks` weeks (default 12, at most 104) including the current one, "
            "Monday start, oldest first; `score_percent` is null for a week without answers."
        ),
        parameters=[s.TrendsQuerySerializer],
        responses={200: s.TrendWeekSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = s.TrendsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        weeks = selectors.weekly_trends(user=_user(request), weeks=query.validated_data["weeks"])
        return Response(s.TrendWeekSerializer(weeks, many=True).data)


class HeartbeatThrottle(UserRateThrottle):
    """A well-behaved client sends one heartbeat a minute; this bounds the log's growth."""

    scope = "analytics_heartbeat"
    rate = "30/min"


class HeartbeatView(APIView):
    throttle_classes = (HeartbeatThrottle,)

    @extend_schema(
        tags=TAGS,
        summary="Report reading time",
        description=(
            "While the caller reads (an explanation, a resource), the client reports the "
            "seconds read since its previous heartbeat, about once a minute. Credited: at most "
            "`ANALYTICS_HEARTBEAT_MAX_SEC` (60) per call and never more than the wall time since "
            "the caller's previous heartbeat, so reading time cannot exceed real time. It is "
            "added to today's study time; the dashboard shows it within its cache period. At most "
            "30 calls a minute (429 beyond)."
        ),
        request=s.HeartbeatSerializer,
        responses={200: s.HeartbeatResultSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        data = s.HeartbeatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credited = services.record_heartbeat(
            user_id=_user_id(request), seconds=data.validated_data["seconds"]
        )
        return Response({"credited_seconds": credited})
