from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cms import selectors
from apps.cms.api.serializers import FeaturedItemSerializer, PageSerializer
from apps.core.api.schema import error_responses


class PageDetailView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        operation_id="pages_retrieve",
        summary="A published CMS page (public)",
        responses={200: PageSerializer, **error_responses(404)},
        tags=["cms"],
        auth=[],
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(PageSerializer(selectors.published_page(slug=slug)).data)


class FeaturedItemListView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        operation_id="featured_items_list",
        summary="The active carousel items, in order (public)",
        responses={200: FeaturedItemSerializer(many=True)},
        tags=["cms"],
        auth=[],
    )
    def get(self, request: Request) -> Response:
        items = selectors.active_featured_items()
        return Response(FeaturedItemSerializer(items, many=True).data)
