"""Benchmark controls: the floor every hot endpoint is measured against (``make bench``).

Served by the same process in the same run as the endpoints under test, so a figure can be
given as a ratio to the stack's own cost:

- ``GET /bench/control``: the bare floor. Django's middleware and a DRF view, nothing else: no
  authentication, no throttle, no database, no cache.
- ``GET /bench/cached``: "authentication + one cache read". Authenticated and throttled exactly
  like ``/dashboard`` (the project's defaults), it returns a dashboard-sized JSON document kept
  as rendered bytes in the Django cache, which is what a dashboard cache hit costs at best.

Routed only where the bench app is installed (``config/settings/local.py`` and
``config/settings/bench.py``, see ``config/urls.py``); never in production or the tests' default
settings.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.schema import error_responses

logger = logging.getLogger("apps.bench")

CACHED_CONTROL_KEY = "bench:cached-control:v1"
TAGS = ["bench"]


def cached_control_document() -> dict[str, Any]:
    """A fixed document of the dashboard's shape and about its size."""
    return {
        "overall_progress": {"completed": 18, "total": 25},
        "performance": {"avg_score_percent": 78, "correct": 245, "incorrect": 69},
        "study_time": {"hours_this_week": 14.5, "delta_vs_last_week": 2.5},
        "recent_activity": {
            "last_practice": {
                "days_ago": 2,
                "score_percent": 80,
                "correct": 20,
                "incorrect": 5,
                "categories": ["Anatomy & Embryology", "Cancer and Palliative Care"],
            },
            "last_exam": {
                "days_ago": 5,
                "exam": "Exam A, Paper 2",
                "score_percent": 72,
                "time_spent_min": 165,
                "answered": 180,
            },
        },
        "suggested_topics": [
            {
                "category": f"Control category {i}",
                "category_slug": f"control-category-{i}",
                "score_percent": 40 + i,
                "reason": "Low Score",
            }
            for i in range(5)
        ],
        "featured_resources": [
            {
                "id": i,
                "kind": "video",
                "title": f"Control resource {i}",
                "duration_sec": 600 + i,
                "url": f"https://resources.example.org/control/{i}",
                "thumbnail_url": f"https://resources.example.org/control/{i}.jpg",
            }
            for i in range(6)
        ],
    }


def cached_control_body() -> bytes:
    """The control document as JSON bytes, from the cache (filled on a miss)."""
    try:
        body = cache.get(CACHED_CONTROL_KEY)
    except Exception:
        logger.warning("cache read failed", exc_info=True)
        body = None
    if isinstance(body, bytes):
        return body
    body = JSONRenderer().render(cached_control_document())
    try:
        cache.set(CACHED_CONTROL_KEY, body, None)
    except Exception:
        logger.warning("cache write failed", exc_info=True)
    return body


class BareControlView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(
        tags=TAGS,
        summary="Benchmark control: the bare floor",
        description="No authentication, throttle, database or cache. Only in the local and "
        "benchmark settings.",
        responses={200: inline_serializer("BareControl", {"ok": serializers.BooleanField()})},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class CachedControlView(APIView):
    """Authentication, permission and throttles are the project defaults, as on /dashboard."""

    @extend_schema(
        tags=TAGS,
        summary="Benchmark control: authentication and one cache read",
        description="A dashboard-sized JSON document served from the cache as rendered bytes. "
        "Only in the local and benchmark settings.",
        responses={
            200: inline_serializer("CachedControl", {"overall_progress": serializers.DictField()}),
            **error_responses(401),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(cached_control_body(), content_type="application/json")
