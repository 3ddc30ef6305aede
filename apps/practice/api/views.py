"""Practice mode API. Thin: validate, call one service or selector, shape the output.

Every object is looked up through the caller's own scope, so another user's session or flag is
a 404.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.api.schema import error_responses
from apps.practice import selectors, services
from apps.practice.api.serializers import (
    PracticeAnswerFeedbackSerializer,
    PracticeAnswerInputSerializer,
    PracticeByCategorySerializer,
    PracticeFlagInputSerializer,
    PracticeFlagSerializer,
    PracticeReportInputSerializer,
    PracticeReportSerializer,
    PracticeReviewQueueSerializer,
    PracticeSessionCreateInputSerializer,
    PracticeSessionHistoryItemSerializer,
    PracticeSessionQuestionSerializer,
    PracticeSessionSerializer,
    PracticeSessionSummarySerializer,
)
from apps.practice.filters import PracticeSessionFilter, QuestionFlagFilter
from apps.practice.models import PracticeSession, QuestionFlag

TAGS = ["practice"]


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return cast(dict[str, Any], serializer.validated_data)


def _user(request: Request) -> User:
    return cast(User, request.user)


class SessionListCreateView(generics.GenericAPIView[PracticeSession]):
    serializer_class = PracticeSessionHistoryItemSerializer
    filterset_class = PracticeSessionFilter

    def get_queryset(self) -> Any:
        return selectors.sessions_for(user_id=_user(self.request).pk)

    @extend_schema(
        tags=TAGS,
        summary="The caller's practice history",
        description="Newest first, paginated, with each session's counters and score. "
        "Two queries whatever the page size.",
        responses={
            200: PracticeSessionHistoryItemSerializer(many=True),
            **error_responses(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            PracticeSessionHistoryItemSerializer(page, many=True).data
        )

    @extend_schema(
        tags=TAGS,
        summary="Start a practice session",
        description=(
            "Draws `question_count` published questions at random from the chosen categories "
            "and subcategories (every category when none), narrowed by `mode`. The draw is "
            "reproducible: the seed is stored with the session.\n\n"
            "`mode: due` takes the questions due for spaced-repetition review (see "
            "`GET /practice/review-queue`), most overdue first, instead of a random draw.\n\n"
            "`mode: today` takes today's study (see `GET /study/today`): the due reviews, most "
            "overdue first, then new questions, within what is left of the daily limits in the "
            "caller's timezone; it completes the caller's earlier open `today` session. "
            "**Nothing left today:** 409 with code `nothing_due_today`.\n\n"
            "**Fewer questions than asked:** the session is created with every available "
            "question; the response then has `is_short: true`, `question_count` < "
            "`requested_count`, and `available_count` says how many matched. "
            "**None available:** 409 with code `no_questions`. "
            "**Unknown category or subcategory slug:** 400 naming it in `fields`.\n\n"
            "Questions of the caller's exams that still take answers are never drawn, in any "
            "mode: practice must not reveal a key of a mock in progress."
        ),
        request=PracticeSessionCreateInputSerializer,
        responses={201: PracticeSessionSerializer, **error_responses(400, 401, 409)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(PracticeSessionCreateInputSerializer, request.data)
        session = services.create_practice_session(
            user=_user(request),
            question_count=data["question_count"],
            category_slugs=data["categories"],
            subcategory_slugs=data["subcategories"],
            include_explanations=data["include_explanations"],
            mode=data["mode"],
        )
        return Response(PracticeSessionSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="One practice session",
        responses={200: PracticeSessionSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = selectors.session_for(user_id=_user(request).pk, session_id=session_id)
        return Response(PracticeSessionSerializer(session).data)


class SessionQuestionsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The session's questions, in order",
        description=(
            "A plain array (a session holds at most 100 questions), in the drawn order, with "
            "options `[{id, text}]` in their stored order. Never the key or the explanation of "
            "an unanswered question; a question already answered in this session carries its "
            "`attempt` with `is_correct`, `correct_option_ids` and (if the session includes "
            "explanations) the explanation. A fixed number of queries."
        ),
        responses={200: PracticeSessionQuestionSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = selectors.session_for(user_id=_user(request).pk, session_id=session_id)
        items = selectors.session_questions(session=session)
        return Response(PracticeSessionQuestionSerializer(items, many=True).data)


class SessionAttemptView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Answer one question of the session",
        description=(
            "Graded by exact set equality with the correct options. `explanation` is null "
            "unless the session includes explanations. `time_spent_sec` is stored as sent; "
            "statistics count at most 600 s of one answer.\n\n"
            "Errors: 400 `question_not_in_session`; 400 `validation_error` for an empty "
            "selection, an option of another question, more than one option on a `single` "
            "question or a negative time; 409 `already_answered`; 409 `session_completed`; "
            "409 `question_unavailable` (withdrawn after the draw); 409 "
            "`question_in_open_exam` while an exam of the caller that still takes answers "
            "holds the question (nothing is graded or revealed; answer it in the exam, "
            "practise it once the exam is over)."
        ),
        request=PracticeAnswerInputSerializer,
        responses={201: PracticeAnswerFeedbackSerializer, **error_responses(400, 401, 404, 409)},
        examples=[
            OpenApiExample(
                "Answer",
                value={"question_id": 1001, "selected_option_ids": [9001], "time_spent_sec": 42},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, session_id: int) -> Response:
        data = _valid(PracticeAnswerInputSerializer, request.data)
        feedback = services.record_practice_answer(
            user=_user(request),
            session_id=session_id,
            question_id=data["question_id"],
            selected_option_ids=data["selected_option_ids"],
            time_spent_sec=data["time_spent_sec"],
        )
        body = {
            "is_correct": feedback.is_correct,
            "correct_option_ids": feedback.correct_option_ids,
            "explanation": feedback.explanation,
            "percent_correct_others": feedback.percent_correct_others,
            "progress": {
                "answered": feedback.session_answered,
                "correct": feedback.session_correct,
                "question_count": feedback.session_question_count,
            },
        }
        return Response(PracticeAnswerFeedbackSerializer(body).data, status=status.HTTP_201_CREATED)


class SessionCompleteView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Complete the session and get its summary",
        description="Idempotent: completing again returns the same summary (200).",
        request=None,
        responses={200: PracticeSessionSummarySerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = services.complete_practice_session(user=_user(request), session_id=session_id)
        return Response(
            PracticeSessionSummarySerializer(selectors.session_summary(session=session)).data
        )


class ReviewQueueView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The caller's spaced-repetition queue",
        description=(
            "Every practice answer reviews the caller's card for that question with the FSRS "
            "scheduler (right: Good, wrong: Again; exam answers do not count). `due_now` "
            "questions are due, and a session with `mode: due` draws them, most overdue first; "
            "`due_today` counts those due by the end of the caller's day (profile timezone); "
            "`next_due_at` is when the next question not yet due falls due. One query."
        ),
        responses={200: PracticeReviewQueueSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        queue = selectors.review_queue(user=_user(request))
        return Response(PracticeReviewQueueSerializer(queue).data)


class PracticeSummaryView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The caller's practice per category",
        description="A plain array of every active category in syllabus order, with the "
        "caller's practice answers in it (zeros and a null score when never practised).",
        responses={200: PracticeByCategorySerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        rows = selectors.practice_by_category(user_id=_user(request).pk)
        return Response(PracticeByCategorySerializer(rows, many=True).data)


def _flag_body(flag: QuestionFlag) -> dict[str, Any]:
    return cast(dict[str, Any], PracticeFlagSerializer(flag).data)


class FlagListCreateView(generics.GenericAPIView[QuestionFlag]):
    serializer_class = PracticeFlagSerializer
    filterset_class = QuestionFlagFilter

    def get_queryset(self) -> Any:
        return selectors.flags_for(user_id=_user(self.request).pk)

    @extend_schema(
        tags=TAGS,
        summary="The caller's flags and private notes",
        description="Most recently changed first, paginated. Two queries whatever the page size.",
        responses={200: PracticeFlagSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(PracticeFlagSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Flag a question and/or keep a private note on it",
        description="Creates (201) or updates (200) the caller's flag on the question. "
        "Omitted fields keep their value. An unpublished or unknown question is a 400.",
        request=PracticeFlagInputSerializer,
        responses={
            200: PracticeFlagSerializer,
            201: PracticeFlagSerializer,
            **error_responses(400, 401),
        },
    )
    def post(self, request: Request) -> Response:
        data = _valid(PracticeFlagInputSerializer, request.data)
        flag, created = services.set_question_flag(
            user=_user(request),
            question_id=data["question_id"],
            is_flagged=data.get("is_flagged"),
            note=data.get("note"),
        )
        flag = selectors.flag_for(user_id=_user(request).pk, question_id=flag.question_id)
        return Response(
            _flag_body(flag), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class FlagDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The caller's flag and note on one question",
        responses={200: PracticeFlagSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, question_id: int) -> Response:
        flag = selectors.flag_for(user_id=_user(request).pk, question_id=question_id)
        return Response(_flag_body(flag))

    @extend_schema(
        tags=TAGS,
        summary="Remove the caller's flag and note on a question",
        request=None,
        responses={204: None, **error_responses(401, 404)},
    )
    def delete(self, request: Request, question_id: int) -> Response:
        services.remove_question_flag(user=_user(request), question_id=question_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReportThrottle(UserRateThrottle):
    scope = "practice_report"
    rate = "60/hour"


class ReportCreateView(APIView):
    throttle_classes = [ReportThrottle]

    @extend_schema(
        tags=TAGS,
        summary="Report a problem with a question",
        description="Goes to the editors' queue. One open report per question and user "
        "(409 `already_reported`); `message` is required when `reason` is `other`.",
        request=PracticeReportInputSerializer,
        responses={201: PracticeReportSerializer, **error_responses(400, 401, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(PracticeReportInputSerializer, request.data)
        report = services.report_question(
            user=_user(request),
            question_id=data["question_id"],
            reason=data["reason"],
            message=data["message"],
        )
        return Response(PracticeReportSerializer(report).data, status=status.HTTP_201_CREATED)
