"""OpenAPI helpers: every view documents its error bodies with the shared envelope.

Usage::

    @extend_schema(request=In, responses={200: Out, **error_responses(400, 401, 404)})
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

from apps.core.api.serializers import ErrorEnvelopeSerializer

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: (
        "Bad input: `code` is `validation_error`, with the one message `The data sent is not "
        "valid.` and every field's messages in `fields` (a key the operation does not declare: "
        "`unknown_field: ...`); `parse_error` for a body that cannot be parsed (or is nested too "
        "deep), `too_many_fields` for a form over the field limit."
    ),
    401: "No token, or the token is invalid, expired or its session has ended.",
    403: "Authenticated, but not allowed.",
    404: "Not found, or not yours.",
    405: "Method not allowed.",
    409: "The request conflicts with the current state.",
    413: "The request body or upload is too large.",
    415: "Unsupported media type.",
    429: "Throttled. The `Retry-After` header gives the seconds to wait.",
    500: "An unexpected error (always a bug).",
    503: "A required service is temporarily unavailable.",
}


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    """``{status: OpenApiResponse(ErrorEnvelope)}`` for each code, ready to spread into
    ``responses=``."""
    return {
        code: OpenApiResponse(
            response=ErrorEnvelopeSerializer,
            description=ERROR_DESCRIPTIONS.get(code, "Error."),
        )
        for code in status_codes
    }
