from __future__ import annotations

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.schema import error_responses
from apps.resources import selectors
from apps.resources.api.serializers import ResourceSerializer
from apps.resources.filters import ResourceFilter
from apps.resources.models import Resource


@extend_schema_view(
    get=extend_schema(
        operation_id="resources_list",
        summary="Published study resources (?featured=true, ?category=<slug>, ?kind=)",
        responses={200: ResourceSerializer(many=True), **error_responses(400, 401)},
        tags=["resources"],
    )
)
class ResourceListView(ListAPIView[Resource]):
    serializer_class = ResourceSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ResourceFilter

    def get_queryset(self) -> QuerySet[Resource]:
        return selectors.published_resources()


class ResourceDetailView(APIView):
    @extend_schema(
        operation_id="resources_retrieve",
        summary="One published resource",
        responses={200: ResourceSerializer, **error_responses(401, 404)},
        tags=["resources"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ResourceSerializer(selectors.resource_detail(resource_id=pk)).data)
