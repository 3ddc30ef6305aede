"""GET /dashboard: one round trip for the candidate's home screen."""

from __future__ import annotations

from typing import cast

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.api.schema import error_responses
from apps.dashboard.api.serializers import DashboardSerializer
from apps.dashboard.selectors import dashboard_json


class DashboardView(APIView):
    @extend_schema(
        tags=["dashboard"],
        summary="The caller's dashboard",
        description=(
            "Progress, performance, this week's study time, the last practice and exam (null if "
            "none), 3 to 5 suggested topics and the featured resources. Cached per caller for "
            "`DASHBOARD_CACHE_SECONDS`, and invalidated by every answer and dismissal, so it "
            "always reflects an answer submitted a moment before."
        ),
        responses={200: DashboardSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> HttpResponse:
        # Already-rendered JSON (cached as bytes): no serialiser runs on a cache hit.
        return HttpResponse(
            dashboard_json(user=cast(User, request.user)), content_type="application/json"
        )
