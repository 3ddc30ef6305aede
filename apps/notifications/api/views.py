"""The caller's inbox, read state and delivery preferences. Thin: services and selectors do
the work."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.schema import error_responses
from apps.notifications import selectors, services
from apps.notifications.api.pagination import NotificationPagination
from apps.notifications.api.serializers import (
    MarkAllReadSerializer,
    NotificationPreferenceSerializer,
    NotificationPreferenceUpdateSerializer,
    NotificationSerializer,
)
from apps.notifications.models import Notification

TAGS = ["notifications"]


class NotificationListView(generics.ListAPIView[Notification]):
    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        return selectors.notifications_for(user=self.request.user)  # type: ignore[arg-type]

    @extend_schema(
        tags=TAGS,
        summary="The caller's notifications, unread first, then newest",
        responses={200: NotificationSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        assert isinstance(self.paginator, NotificationPagination)  # nosec B101 # type narrowing
        self.paginator.unread_count = selectors.unread_count_for(user=request.user)  # type: ignore[arg-type]
        return self.list(request, *args, **kwargs)


class NotificationReadView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Mark one notification read (idempotent)",
        request=None,
        responses={200: NotificationSerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, notification_id: int) -> Response:
        notification = services.mark_notification_read(
            user=request.user,  # type: ignore[arg-type]
            notification_id=notification_id,
        )
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Mark all of the caller's notifications read",
        request=None,
        responses={200: MarkAllReadSerializer, **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        updated = services.mark_all_notifications_read(user=request.user)  # type: ignore[arg-type]
        return Response({"updated": updated}, status=status.HTTP_200_OK)


class NotificationPreferenceView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The caller's delivery preferences (defaults until changed)",
        responses={200: NotificationPreferenceSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        preference = selectors.preferences_for(user=request.user)  # type: ignore[arg-type]
        return Response(NotificationPreferenceSerializer(preference).data)

    @extend_schema(
        tags=TAGS,
        summary="Change some of the caller's delivery preferences",
        request=NotificationPreferenceUpdateSerializer,
        responses={200: NotificationPreferenceSerializer, **error_responses(400, 401)},
    )
    def patch(self, request: Request) -> Response:
        serializer = NotificationPreferenceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = services.update_preferences(
            user=request.user,  # type: ignore[arg-type]
            changes=serializer.validated_data,
        )
        return Response(NotificationPreferenceSerializer(preference).data)
