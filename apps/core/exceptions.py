"""Domain errors. Services raise these; one handler maps them to the API's error envelope."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken. ``code`` is machine-readable, the message human."""

    status_code = 400
    code = "invalid"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None):
        self.message = message or self.default_message
        self.fields = fields
        super().__init__(self.message)


class ValidationFailed(DomainError):
    status_code = 400
    code = "validation_error"
    default_message = "The data sent is not valid."


class Unauthorized(DomainError):
    status_code = 401
    code = "not_authenticated"
    default_message = "Authentication failed."


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class PermissionDenied(DomainError):
    status_code = 403
    code = "permission_denied"
    default_message = "You do not have permission to do this."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class TooManyRequests(DomainError):
    """Throttled by a rule of the domain (not a cache-based throttle); sets ``Retry-After``."""

    status_code = 429
    code = "throttled"
    default_message = "Too many attempts. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int = 60):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"
    default_message = "The upload is too large."


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"
    default_message = "This file type is not supported."


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "service_unavailable"
    default_message = "The service is temporarily unavailable."
