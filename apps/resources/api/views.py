"""Study resources: candidates read published ones; editors and admins also see unpublished
ones and write (every write is audited)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import Role
from apps.accounts.permissions import IsEditorOrReadOnly, has_role
from apps.core.api.schema import error_responses
from apps.resources import selectors, services
from apps.resources.api.serializers import (
    ResourceSerializer,
    ResourceStaffSerializer,
    ResourceWriteSerializer,
)
from apps.resources.filters import ResourceFilter
from apps.resources.models import Resource


def _is_staff(request: Request) -> bool:
    return has_role(request.user, Role.EDITOR)


def _out(request: Request, resource: Resource) -> dict[str, Any]:
    serializer = ResourceStaffSerializer if _is_staff(request) else ResourceSerializer
    return dict(serializer(resource).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="resources_list",
        summary="Study resources (?featured=true, ?category=<slug>, ?kind=)",
        description="Candidates get published resources; editors and admins get all of them.",
        responses={200: ResourceSerializer(many=True), **error_responses(400, 401)},
        tags=["resources"],
    )
)
class ResourceListView(ListAPIView[Resource]):
    permission_classes = [IsEditorOrReadOnly]
    filter_backends = [DjangoFilterBackend]
    filterset_class = ResourceFilter

    def get_queryset(self) -> QuerySet[Resource]:
        return selectors.resources_for(staff=_is_staff(self.request))

    def get_serializer_class(self) -> Any:
        return ResourceStaffSerializer if _is_staff(self.request) else ResourceSerializer

    @extend_schema(
        operation_id="resources_create",
        summary="Create a resource (editors, admins)",
        request=ResourceWriteSerializer,
        responses={201: ResourceStaffSerializer, **error_responses(400, 401, 403)},
        tags=["resources"],
    )
    def post(self, request: Request) -> Response:
        serializer = ResourceWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resource = services.create_resource(actor=request.user, **serializer.validated_data)
        return Response(_out(request, resource), status=status.HTTP_201_CREATED)


class ResourceDetailView(APIView):
    permission_classes = [IsEditorOrReadOnly]

    @extend_schema(
        operation_id="resources_retrieve",
        summary="One resource",
        responses={200: ResourceSerializer, **error_responses(401, 404)},
        tags=["resources"],
    )
    def get(self, request: Request, pk: int) -> Response:
        resource = selectors.resource_detail(resource_id=pk, staff=_is_staff(request))
        return Response(_out(request, resource))

    @extend_schema(
        operation_id="resources_partial_update",
        summary="Change a resource (editors, admins)",
        request=ResourceWriteSerializer,
        responses={200: ResourceStaffSerializer, **error_responses(400, 401, 403, 404)},
        tags=["resources"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        resource = selectors.resource_detail(resource_id=pk, staff=True)
        serializer = ResourceWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        resource = services.update_resource(
            resource=resource, actor=request.user, **serializer.validated_data
        )
        return Response(_out(request, resource))

    @extend_schema(
        operation_id="resources_destroy",
        summary="Delete a resource (editors, admins)",
        responses={204: None, **error_responses(401, 403, 404)},
        tags=["resources"],
    )
    def delete(self, request: Request, pk: int) -> Response:
        resource = selectors.resource_detail(resource_id=pk, staff=True)
        services.delete_resource(resource=resource, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
