"""Shapes of the notifications API."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import InputSerializer
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services.inbox import PREFERENCE_FIELDS


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    class Meta:
        model = Notification
        fields = ("id", "title", "body", "kind", "link", "is_read", "read_at", "created_at")
        read_only_fields = fields


class MarkAllReadSerializer(serializers.Serializer):
    updated = serializers.IntegerField(help_text="How many notifications were marked read.")


class NotificationPreferenceSerializer(serializers.ModelSerializer[NotificationPreference]):
    """Which kinds arrive in-app and which by email. ``system`` notifications always arrive."""

    class Meta:
        model = NotificationPreference
        fields = PREFERENCE_FIELDS


class NotificationPreferenceUpdateSerializer(InputSerializer):
    """A partial update: any subset of the preference fields, each a boolean."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: serializers.BooleanField(required=False) for name in PREFERENCE_FIELDS}

    def validate(self, attrs: dict[str, bool]) -> dict[str, bool]:
        unknown = sorted(set(self.initial_data) - set(PREFERENCE_FIELDS))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown preference."] for name in unknown})
        if not attrs:
            raise serializers.ValidationError("Send at least one preference to change.")
        return attrs
