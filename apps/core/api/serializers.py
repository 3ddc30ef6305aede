"""Shapes shared by every app's API: the error envelope of api-contract.md, and the base of
every input shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

UNKNOWN_FIELD = "unknown_field"
# The code leads the message: the envelope's ``fields`` hold strings only (api-contract.md).
UNKNOWN_FIELD_MESSAGE = f"{UNKNOWN_FIELD}: this endpoint does not accept this field."


class InputSerializer(serializers.Serializer):
    """The base of every request body's serializer: a key it does not declare is refused.

    DRF ignores undeclared keys, so a misspelt or misplaced field (``{"category": "x"}`` for
    ``categories``) silently did the default thing. Here each one is a 400 on that key whose
    message starts with the code ``unknown_field``, reported with the other fields' errors.
    Nested input serializers (``many=True`` or as a ``ListField`` child) check their own keys,
    so the error is named by its path (``options.0.colour``).

    ``accepted_extra_fields`` lists keys that are known although not writable here (the view
    or ``validate`` deals with them, e.g. read-only profile fields sent back unchanged).
    """

    accepted_extra_fields: ClassVar[tuple[str, ...]] = ()

    def unknown_fields(self, data: Any) -> list[str]:
        if not isinstance(data, Mapping):
            return []  # DRF refuses a non-object itself
        known = {field.field_name for field in self._writable_fields}
        known.update(self.accepted_extra_fields)
        return sorted(str(key) for key in data if key not in known)

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, Any] = {
            name: [ErrorDetail(UNKNOWN_FIELD_MESSAGE, code=UNKNOWN_FIELD)]
            for name in self.unknown_fields(data)
        }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                exc.detail.update(unknown)  # every field's errors in one reply
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


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
