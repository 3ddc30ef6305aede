"""The question API: candidates read published questions without the key; editors and admins
also write (with the options in one request) and import files."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from apps.accounts.models import Role, User
from apps.accounts.permissions import IsEditor, IsEditorOrReadOnly, has_role
from apps.core.api.schema import error_responses
from apps.questions import selectors, services
from apps.questions.api.serializers import (
    ImportAcceptedSerializer,
    ImportJobSerializer,
    ImportRequestSerializer,
    QuestionPublicSerializer,
    QuestionStaffSerializer,
    QuestionWriteSerializer,
)
from apps.questions.filters import QuestionFilter
from apps.questions.models import Question


def _user(request: Request) -> User:
    """The caller of a view that requires a logged-in user (every write here does)."""
    return cast(User, request.user)


def _is_staff(request: Request) -> bool:
    return has_role(request.user, Role.EDITOR)


def _serializer_for(request: Request) -> type[QuestionPublicSerializer]:
    return QuestionStaffSerializer if _is_staff(request) else QuestionPublicSerializer


def _write_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(data)
    if "options" in kwargs:
        kwargs["options"] = [dict(o) for o in kwargs["options"]]
    if "media" in kwargs:
        kwargs["media"] = [dict(m) for m in kwargs["media"]]
    return kwargs


@extend_schema_view(
    get=extend_schema(
        operation_id="questions_list",
        summary="Questions (candidates: published only, never the key)",
        description="Editors and admins get every status and the staff shape (options with "
        "`is_correct`, explanation, status, version).",
        responses={200: QuestionPublicSerializer(many=True), **error_responses(400, 401)},
        tags=["questions"],
    )
)
class QuestionListCreateView(ListAPIView[Question]):
    permission_classes = [IsEditorOrReadOnly]
    filter_backends = [DjangoFilterBackend]
    filterset_class = QuestionFilter

    def get_queryset(self) -> QuerySet[Question]:
        return selectors.question_list(staff=_is_staff(self.request))

    def get_serializer_class(self) -> Any:
        return _serializer_for(self.request)

    @extend_schema(
        operation_id="questions_create",
        summary="Create a question with its options (editors, admins)",
        request=QuestionWriteSerializer,
        responses={201: QuestionStaffSerializer, **error_responses(400, 401, 403)},
        tags=["questions"],
    )
    def post(self, request: Request) -> Response:
        serializer = QuestionWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question = services.create_question(
            actor=_user(request), **_write_kwargs(serializer.validated_data)
        )
        question = selectors.question_detail(question_id=question.pk, staff=True)
        return Response(QuestionStaffSerializer(question).data, status=status.HTTP_201_CREATED)


class QuestionDetailView(APIView):
    permission_classes = [IsEditorOrReadOnly]

    @extend_schema(
        operation_id="questions_retrieve",
        summary="One question (candidates: published only, never the key)",
        responses={200: QuestionPublicSerializer, **error_responses(401, 404)},
        tags=["questions"],
    )
    def get(self, request: Request, pk: int) -> Response:
        question = selectors.question_detail(question_id=pk, staff=_is_staff(request))
        return Response(_serializer_for(request)(question).data)

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        question = selectors.question_detail(question_id=pk, staff=True)
        serializer = QuestionWriteSerializer(question, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.update_question(
            question=question, actor=_user(request), **_write_kwargs(serializer.validated_data)
        )
        question = selectors.question_detail(question_id=pk, staff=True)
        return Response(QuestionStaffSerializer(question).data)

    @extend_schema(
        operation_id="questions_update",
        summary="Replace a question and its options (editors, admins)",
        request=QuestionWriteSerializer,
        responses={200: QuestionStaffSerializer, **error_responses(400, 401, 403, 404)},
        tags=["questions"],
    )
    def put(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        operation_id="questions_partial_update",
        summary="Change some fields of a question (editors, admins)",
        request=QuestionWriteSerializer,
        responses={200: QuestionStaffSerializer, **error_responses(400, 401, 403, 404)},
        tags=["questions"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)

    @extend_schema(
        operation_id="questions_destroy",
        summary="Delete a question; an answered question is retired instead",
        description="204 when the question was deleted; 200 with the question (status "
        "`retired`) when it had been answered and was retired instead.",
        responses={204: None, 200: QuestionStaffSerializer, **error_responses(401, 403, 404)},
        tags=["questions"],
    )
    def delete(self, request: Request, pk: int) -> Response:
        question = selectors.question_detail(question_id=pk, staff=True)
        outcome = services.delete_question(question=question, actor=_user(request))
        if outcome == "deleted":
            return Response(status=status.HTTP_204_NO_CONTENT)
        question = selectors.question_detail(question_id=pk, staff=True)
        return Response(QuestionStaffSerializer(question).data)


class ImportCreateView(APIView):
    permission_classes = [IsEditor]
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "import"

    @extend_schema(
        operation_id="questions_import_create",
        summary="Upload a CSV, JSON or XLSX file of questions (editors, admins)",
        description="The file is checked now (size <= 5 MB, at most 5000 rows, readable) and "
        "processed in the background; poll GET /questions/import/{job_id}. Format: "
        "docs/import-format.md.",
        request={"multipart/form-data": ImportRequestSerializer},
        responses={202: ImportAcceptedSerializer, **error_responses(400, 401, 403, 413, 415)},
        tags=["questions"],
    )
    def post(self, request: Request) -> Response:
        serializer = ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        services.ensure_import_size(size=upload.size or 0)
        content = upload.read()
        job = services.create_import_job(
            actor=_user(request),
            filename=upload.name or "",
            content=content,
            dry_run=serializer.validated_data["dry_run"],
            default_status=serializer.validated_data["status"],
        )
        return Response({"job_id": job.pk, "status": job.status}, status=status.HTTP_202_ACCEPTED)


class ImportDetailView(APIView):
    permission_classes = [IsEditor]

    @extend_schema(
        operation_id="questions_import_retrieve",
        summary="Status and per-row report of an import job (its creator or an admin)",
        responses={200: ImportJobSerializer, **error_responses(401, 403, 404)},
        tags=["questions"],
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = selectors.import_job_for(job_id=job_id, user=_user(request))
        return Response(ImportJobSerializer(job).data)
