"""``POST /staff/questions/{id}/rekey``: correct a question's key and regrade (editors, admins)."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.accounts.permissions import IsEditor
from apps.core.api.schema import error_responses
from apps.core.api.serializers import InputSerializer
from apps.quality.services.regrade import rekey_and_regrade
from apps.questions.grading import MAX_SELECTED_OPTIONS


class RekeyRequestSerializer(InputSerializer):
    correct_option_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=MAX_SELECTED_OPTIONS,
        help_text="The option ids that are correct from now on (one for a single best answer).",
    )
    reason = serializers.CharField(
        max_length=2000, trim_whitespace=True, help_text="Why the key changes (audited)."
    )


class RegradedCountsSerializer(serializers.Serializer):
    practice_attempts = serializers.IntegerField(help_text="Practice attempts regraded.")
    exam_answers = serializers.IntegerField(help_text="Answers of submitted exams regraded.")
    exam_sessions = serializers.IntegerField(
        help_text="Submitted exams rescored because a grade in them changed."
    )


class RekeyResponseSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The question's new version.")
    regraded = RegradedCountsSerializer()


class QuestionRekeyView(APIView):
    permission_classes = [IsEditor]

    @extend_schema(
        operation_id="staff_questions_rekey",
        summary="Correct a question's key and regrade every answer graded on the old one",
        description="Makes a new version with the key given and regrades, exactly once, every "
        "practice attempt and submitted exam answer graded on the old key (session counters, "
        "exam scores, the learning record, the question's statistics), audits it and notifies "
        "each candidate whose grade changed. 200 when the regrade is done; 202 when it goes on "
        "in the background (a very large run, or an old transaction still open): the counts "
        "are those done so far. 409 when that is already the key or a regrade of the question "
        "is still running.",
        request=RekeyRequestSerializer,
        responses={
            200: RekeyResponseSerializer,
            202: OpenApiResponse(RekeyResponseSerializer, description="Regrading goes on."),
            **error_responses(400, 401, 403, 404, 409),
        },
        tags=["quality"],
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = RekeyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = rekey_and_regrade(
            question_id=pk,
            correct_option_ids=list(serializer.validated_data["correct_option_ids"]),
            reason=serializer.validated_data["reason"],
            by=cast(User, request.user),
        )
        return Response(
            RekeyResponseSerializer(result.as_contract()).data,
            status=status.HTTP_200_OK if result.done else status.HTTP_202_ACCEPTED,
        )
