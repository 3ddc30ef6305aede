"""Platform endpoints: the API index, liveness and readiness."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import health


# Inline enums (not named components): "status" is a common field name across apps, and named
# enum components would collide.
@extend_schema_field({"type": "string", "enum": ["ok"]})
class LiveStatusField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": ["ok", "unavailable"]})
class CheckStatusField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": ["ok", "degraded", "unavailable"]})
class ReadinessStatusField(serializers.CharField):
    pass


class LiveSerializer(serializers.Serializer):
    status = LiveStatusField()


class CheckSerializer(serializers.Serializer):
    status = CheckStatusField()
    critical = serializers.BooleanField(help_text="Whether this check failing makes us unready.")
    duration_ms = serializers.FloatField()
    error = serializers.CharField(required=False)


class ChecksSerializer(serializers.Serializer):
    database = CheckSerializer()
    cache = CheckSerializer()
    broker = CheckSerializer()


class ReadinessSerializer(serializers.Serializer):
    status = ReadinessStatusField()
    checks = ChecksSerializer()


class ApiIndexSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="The API version of these paths, e.g. `v1`.")
    schema = serializers.CharField(help_text="Path of the OpenAPI 3 schema.")
    docs = serializers.CharField(help_text="Path of the interactive documentation.")
    health = serializers.CharField(help_text="Path of the readiness check.")


class ApiIndexView(APIView):
    """``/api/v1/``: where a client (or a person with curl) finds the rest."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=["health"],
        operation_id="api_index",
        summary="API index",
        description="The API version and the paths of the schema, the docs and the health check.",
        responses={200: ApiIndexSerializer},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "version": "v1",
                "schema": reverse("schema"),
                "docs": reverse("docs"),
                "health": reverse("core:health"),
            }
        )


class _ProbeView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()


class LivenessView(_ProbeView):
    @extend_schema(
        tags=["health"],
        summary="Liveness",
        description="200 whenever the process can answer. Touches no other service.",
        responses={200: LiveSerializer},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadinessView(_ProbeView):
    @extend_schema(
        tags=["health"],
        summary="Readiness",
        description=(
            "Checks the database, the cache and the Celery broker. Only the database being "
            "down makes the service unready (503, `status: unavailable`); the cache or broker "
            "being down is reported as `degraded` with 200, because the API keeps working."
        ),
        responses={
            200: ReadinessSerializer,
            503: OpenApiResponse(ReadinessSerializer, description="The database is down."),
        },
        auth=[],
    )
    def get(self, request: Request) -> Response:
        status, checks = health.readiness()
        return Response(
            {"status": status, "checks": checks}, status=503 if status == "unavailable" else 200
        )
