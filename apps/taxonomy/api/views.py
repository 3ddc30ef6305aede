from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.schema import error_responses
from apps.taxonomy import selectors
from apps.taxonomy.api.serializers import CategoryDetailSerializer, CategorySerializer
from apps.taxonomy.progress import progress_for


class CategoryListView(APIView):
    @extend_schema(
        operation_id="categories_list",
        summary="Active categories with published question counts and the caller's progress",
        responses={200: CategorySerializer(many=True), **error_responses(401)},
        tags=["taxonomy"],
    )
    def get(self, request: Request) -> Response:
        categories = list(selectors.active_categories())
        progress = progress_for(request.user, [c.pk for c in categories])
        data = CategorySerializer(categories, many=True, context={"progress": progress}).data
        return Response(data)


class CategoryDetailView(APIView):
    @extend_schema(
        operation_id="categories_retrieve",
        summary="One active category with its subcategories",
        responses={200: CategoryDetailSerializer, **error_responses(401, 404)},
        tags=["taxonomy"],
    )
    def get(self, request: Request, slug: str) -> Response:
        category = selectors.category_detail(slug=slug)
        progress = progress_for(request.user, [category.pk])
        return Response(CategoryDetailSerializer(category, context={"progress": progress}).data)
