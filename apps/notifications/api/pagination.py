"""The inbox page carries the caller's unread count beside the usual pagination fields."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from apps.core.pagination import PageNumberPagination


class NotificationPagination(PageNumberPagination):
    """``{"count", "unread_count", "next", "previous", "results"}``.

    The view sets ``unread_count`` on the paginator before asking for the response.
    """

    unread_count: int = 0

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["unread_count"] = self.unread_count
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["unread_count"] = {
            "type": "integer",
            "example": 3,
            "description": "The caller's unread notifications in total (not just this page).",
        }
        paginated["required"] = [*paginated.get("required", []), "unread_count"]
        return paginated
