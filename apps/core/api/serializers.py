"""Shapes shared by every app's API: the error envelope of api-contract.md."""

from __future__ import annotations

from rest_framework import serializers


class ErrorEnvelopeSerializer(serializers.Serializer):
    """``{"code", "message", "fields"?}``: the body of every 4xx and 5xx response."""

    code = serializers.CharField(help_text="Machine-readable error code, e.g. validation_error.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    # The metaclass moves declared fields out of the class body, so this does not shadow
    # ``Serializer.fields``; the output key must be "fields" (api-contract.md).
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only for validation errors: field name (dotted for nested) to messages.",
    )


class DetailSerializer(serializers.Serializer):
    """A plain acknowledgement: ``{"detail": "..."}``."""

    detail = serializers.CharField()
