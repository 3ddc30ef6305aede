"""CMS pages are public to read (no token needed, a stale one is ignored); editors and admins
write them (audited). The featured carousel is public."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsEditor, IsEditorOrReadOnly
from apps.cms import selectors, services
from apps.cms.api.serializers import (
    FeaturedItemSerializer,
    PageSerializer,
    PageStaffSerializer,
    PageWriteSerializer,
)
from apps.core.api.schema import error_responses


class _PublicReads:
    """Reads skip authentication entirely; writes authenticate as usual."""

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self._safe = request.method in SAFE_METHODS
        return super().initialize_request(request, *args, **kwargs)  # type: ignore[misc]

    def get_authenticators(self) -> list[Any]:
        if getattr(self, "_safe", True):
            return []
        return super().get_authenticators()  # type: ignore[misc]

    def get_permissions(self) -> list[Any]:
        if getattr(self, "_safe", True):
            return [AllowAny()]
        return super().get_permissions()  # type: ignore[misc]


class PageCreateView(APIView):
    permission_classes = [IsEditor]

    @extend_schema(
        operation_id="pages_create",
        summary="Create a page (editors, admins)",
        request=PageWriteSerializer,
        responses={201: PageStaffSerializer, **error_responses(400, 401, 403)},
        tags=["cms"],
    )
    def post(self, request: Request) -> Response:
        serializer = PageWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        page = services.create_page(actor=request.user, **serializer.validated_data)
        return Response(PageStaffSerializer(page).data, status=status.HTTP_201_CREATED)


class PageDetailView(_PublicReads, APIView):
    permission_classes = [IsEditorOrReadOnly]

    @extend_schema(
        operation_id="pages_retrieve",
        summary="A published CMS page (public)",
        responses={200: PageSerializer, **error_responses(404)},
        tags=["cms"],
        auth=[],
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(PageSerializer(selectors.published_page(slug=slug)).data)

    @extend_schema(
        operation_id="pages_partial_update",
        summary="Change a page (editors, admins)",
        request=PageWriteSerializer,
        responses={200: PageStaffSerializer, **error_responses(400, 401, 403, 404)},
        tags=["cms"],
    )
    def patch(self, request: Request, slug: str) -> Response:
        page = selectors.page_for_staff(slug=slug)
        serializer = PageWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = {k: v for k, v in serializer.validated_data.items() if k != "slug"}
        page = services.update_page(page=page, actor=request.user, **changes)
        return Response(PageStaffSerializer(page).data)

    @extend_schema(
        operation_id="pages_destroy",
        summary="Delete a page (editors, admins)",
        responses={204: None, **error_responses(401, 403, 404)},
        tags=["cms"],
    )
    def delete(self, request: Request, slug: str) -> Response:
        services.delete_page(page=selectors.page_for_staff(slug=slug), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
