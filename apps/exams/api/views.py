"""Exam mode endpoints: thin views over ``apps.exams.services`` and ``apps.exams.selectors``."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.api.client import client_ip, user_agent
from apps.core.api.schema import error_responses
from apps.core.pagination import PageNumberPagination
from apps.exams.api.serializers import (
    ExamAttemptBatchInputSerializer,
    ExamAttemptInputSerializer,
    ExamHistoryItemSerializer,
    ExamResultSerializer,
    ExamReviewSerializer,
    ExamSavedAnswerSerializer,
    ExamSessionEventInputSerializer,
    ExamSessionSerializer,
    ExamTemplateSerializer,
    StartExamSessionSerializer,
    answer_input,
    plain_batch,
    saved_answers_body,
)
from apps.exams.exceptions import ExamNotSubmitted
from apps.exams.models import MAX_EVENTS_PER_SESSION, SessionEventKind
from apps.exams.selectors import (
    active_exam_templates,
    exam_history,
    exam_paper,
    exam_result,
    exam_review,
    exam_session_for,
)
from apps.exams.services import (
    ClientInfo,
    note_sitting,
    record_session_event,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
    submit_expired_sessions,
    submit_if_past_deadline,
)

TAGS = ["exams"]


def _user(request: Request) -> User:
    """The caller (every exam view requires authentication: the default permission)."""
    return cast(User, request.user)


def _client(request: Request) -> ClientInfo:
    """The caller's address and browser, noted as a sitting of the session."""
    return ClientInfo(ip_address=client_ip(request), user_agent=user_agent(request))


class ExamTemplateListView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Active exam templates (plain array)",
        description="A template the question bank cannot fill has `available: false` and says "
        "why in `unavailable_reason`; starting it answers 409 `template_unfillable`.",
        responses={200: ExamTemplateSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "paper": t.paper,
                "duration_minutes": t.duration_minutes,
                "total_questions": t.total_questions,
                "description": t.description,
                "available": availability.available,
                "unavailable_reason": availability.unavailable_reason,
            }
            for t, availability in active_exam_templates()
        ]
        return Response(ExamTemplateSerializer(rows, many=True).data)


class ExamSessionListCreateView(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(
        tags=TAGS,
        summary="The caller's exam history, newest first (paginated)",
        responses={200: ExamHistoryItemSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        # An expired session still open (a stopped worker) is scored before it is listed.
        submit_expired_sessions(user=_user(request))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(exam_history(user=_user(request)), request, view=self)
        return paginator.get_paginated_response(ExamHistoryItemSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Start an exam session",
        description="201 with the new session; 200 with the caller's session of that template "
        "already in progress. The server sets `expires_at`. With billing on, a full-length mock "
        "(as many questions as its paper) is 403 `entitlement_required` without the "
        "`full_length_mocks` entitlement; a session already in progress resumes regardless.",
        request=StartExamSessionSerializer,
        responses={
            201: ExamSessionSerializer,
            200: OpenApiResponse(ExamSessionSerializer, description="Already in progress."),
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request) -> Response:
        form = StartExamSessionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        started = start_exam_session(
            user=_user(request),
            template_id=form.validated_data["template_id"],
            client=_client(request),
        )
        return Response(
            ExamSessionSerializer(exam_paper(session=started.session, new=started.created)).data,
            status=status.HTTP_201_CREATED if started.created else status.HTTP_200_OK,
        )


class ExamSessionDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="One of the caller's sessions: the paper, saved answers and the clock",
        description="Never carries the answer key. A session past its deadline is submitted "
        "with what was saved before it is returned. An open session notes the caller's address "
        "and browser as a sitting; the first request from a new pair records a `resumed` "
        "event (for examiners; never shown to the candidate).",
        responses={200: ExamSessionSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = submit_if_past_deadline(
            session=exam_session_for(user=_user(request), session_id=session_id)
        )
        note_sitting(session=session, client=_client(request))
        return Response(ExamSessionSerializer(exam_paper(session=session)).data)


class ExamAttemptsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Save answers (one, or a batch under `attempts`)",
        description="Upserts; answers may change until submission. A batch is all or nothing. "
        "409 `exam_expired` after the deadline (plus a few seconds' grace), 409 "
        "`exam_submitted` after submission; 400 for a question not in the session or a "
        "selection practice would refuse too (an option not of the question, more than one "
        "option on a `single` question, more than 20); `[]` clears the answer. Client "
        "timestamps are ignored.",
        request=PolymorphicProxySerializer(
            component_name="ExamAttemptsInput",
            serializers=[ExamAttemptInputSerializer, ExamAttemptBatchInputSerializer],
            resource_type_field_name=None,
        ),
        responses={
            200: OpenApiResponse(
                ExamSavedAnswerSerializer,
                description='The saved answer; a batch answers `{"attempts": [...]}` '
                "(SavedAttempts).",
            ),
            **error_responses(400, 401, 404, 409),
        },
        examples=[
            OpenApiExample(
                "One answer",
                value={"question_id": 1001, "selected_option_ids": [9001], "time_spent_sec": 40},
                request_only=True,
            ),
            OpenApiExample(
                "A batch",
                value={"attempts": [{"question_id": 1001, "selected_option_ids": [9001]}]},
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request, session_id: int) -> Response:
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        if "attempts" in request.data:
            answers = plain_batch(request.data)
            if answers is None:
                batch = ExamAttemptBatchInputSerializer(data=request.data)
                batch.is_valid(raise_exception=True)
                answers = [answer_input(a) for a in batch.validated_data["attempts"]]
            saved = save_exam_answers(user=_user(request), session_id=session_id, answers=answers)
            return Response({"attempts": saved_answers_body(saved)})
        single = ExamAttemptInputSerializer(data=request.data)
        single.is_valid(raise_exception=True)
        saved = save_exam_answers(
            user=_user(request),
            session_id=session_id,
            answers=[single.to_answer()],
            field_prefix="",
        )
        return Response(saved_answers_body(saved)[0])


class ExamSubmitView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Submit: score and lock the session",
        description="Scored exactly once; repeated or concurrent submits all get the stored "
        "result. Unanswered questions count as wrong.",
        request=None,
        responses={200: ExamResultSerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = submit_exam_session(session_id=session_id, user=_user(request))
        return Response(ExamResultSerializer(exam_result(session=session)).data)


class ExamReviewView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Review a submitted session",
        description="Every question in the session's order with the candidate's answer, the "
        "correct options, correctness and explanation. 409 `exam_not_submitted` before.",
        responses={200: ExamReviewSerializer, **error_responses(401, 404, 409)},
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = submit_if_past_deadline(
            session=exam_session_for(user=_user(request), session_id=session_id)
        )
        if session.is_open:
            raise ExamNotSubmitted()
        return Response(ExamReviewSerializer(exam_review(session=session)).data)


class ExamSessionEventView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Report an integrity signal of an open session",
        description="Records a focus, visibility or resume signal with the caller's address and "
        "browser (signals for examiners, not proof; they never change a score). 204 when "
        "recorded. 409 `exam_submitted` after submission, `exam_expired` after the deadline, "
        f"`event_limit_reached` once the session holds {MAX_EVENTS_PER_SESSION} events; 404 "
        "for a session that is not the caller's.",
        request=ExamSessionEventInputSerializer,
        responses={
            204: OpenApiResponse(description="Recorded."),
            **error_responses(400, 401, 404, 409),
        },
        examples=[
            OpenApiExample(
                "Focus lost",
                value={"kind": "focus_lost", "at": "2026-12-04T18:02:11Z"},
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request, session_id: int) -> Response:
        form = ExamSessionEventInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        record_session_event(
            user=_user(request),
            session_id=session_id,
            kind=SessionEventKind(form.validated_data["kind"]),
            occurred_at=form.validated_data["at"],
            client=_client(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
