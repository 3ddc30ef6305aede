"""The staff item-quality API: the quality queue, one question's statistics per version, and
an on-demand re-analysis. Editors and admins only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsEditor
from apps.core.api.schema import error_responses
from apps.quality import selectors
from apps.quality.api.serializers import (
    AnalysisQueuedSerializer,
    QualityItemSerializer,
    QualityQueueQuerySerializer,
    QuestionStatsSerializer,
)
from apps.quality.models import ItemStatistics
from apps.quality.services.analysis import request_item_analysis

TAGS = ["quality"]


class QualityQueueView(GenericAPIView):
    permission_classes = [IsEditor]
    serializer_class = QualityItemSerializer
    queryset = ItemStatistics.objects.none()  # for the schema; rows come from the selector

    @extend_schema(
        operation_id="staff_questions_quality_list",
        summary="The item quality queue (editors, admins)",
        description=(
            "One row per analysed question: the statistics of its latest analysed version, "
            "from candidates' first attempts (updated nightly). `flag` keeps the questions "
            "carrying that flag (`reported`: with open candidate reports). Default ordering "
            "`-open_reports`. Thresholds: docs/item-analysis.md."
        ),
        parameters=[QualityQueueQuerySerializer],
        responses={200: QualityItemSerializer(many=True), **error_responses(400, 401, 403)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = QualityQueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.quality_queue(
            flag=query.validated_data.get("flag"), ordering=query.validated_data["ordering"]
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(QualityItemSerializer(page, many=True).data)


class QuestionStatsView(APIView):
    permission_classes = [IsEditor]

    @extend_schema(
        operation_id="staff_questions_stats_retrieve",
        summary="A question's item statistics per version (editors, admins)",
        description=(
            "Every version of the question, newest first: n, facility, discrimination "
            "(point-biserial against the rest score), upper-lower 27% index, median time, "
            "flags and, per option, its pick rate overall and by ability quintile (lowest "
            "first) with its point-biserial. A version nobody has answered yet has n 0."
        ),
        responses={200: QuestionStatsSerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        stats = selectors.question_statistics(question_id=pk)
        return Response(QuestionStatsSerializer(stats).data)


class QuestionStatsRefreshView(APIView):
    permission_classes = [IsEditor]

    @extend_schema(
        operation_id="staff_questions_stats_refresh",
        summary="Re-run item analysis of one question now (editors, admins)",
        description=(
            "Queues the analysis of this question (`quality.analyse_items`); read the result "
            "from GET .../stats. The nightly run analyses every question."
        ),
        request=None,
        responses={202: AnalysisQueuedSerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        selectors.ensure_question_exists(question_id=pk)
        request_item_analysis(question_ids=[pk])
        return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)
