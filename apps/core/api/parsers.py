"""The API's request parsers: DRF's, made safe against hostile bodies.

DRF's parsers read ``request`` as a stream, which skips Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
check on ``request.body``, and its JSON parser lets a ``RecursionError`` out of ``json.load`` for
a body nested some thousands deep (``[[[[...]]]]``): without these subclasses both are a 500.
Here a body over the limit raises Django's own ``RequestDataTooBig`` and too deep a body is a
``ParseError``; the one exception handler (``apps.core.api.exception_handler``) turns them, and
Django's ``TooManyFieldsSent`` from the form parsers, into 4xx envelopes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError

TOO_DEEP = "JSON parse error - the document is nested too deeply."


def ensure_body_size(parser_context: Mapping[str, Any] | None) -> None:
    """Refuses a body whose declared length is over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, before a
    byte of it is read (the WSGI stream never yields more than ``CONTENT_LENGTH``).

    File uploads (multipart) are left to Django's multipart parser, which applies the same
    limit to the fields and leaves files to the upload handlers and the views' own limits."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    request = (parser_context or {}).get("request")
    if limit is None or request is None:
        return
    meta = request.META
    try:
        length = int(meta.get("CONTENT_LENGTH") or meta.get("HTTP_CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        length = 0
    if length > limit:
        raise RequestDataTooBig(
            "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
        )  # Django's own exception, mapped to 413 by the exception handler


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        ensure_body_size(parser_context)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # json's C scanner gives up at the interpreter's recursion limit: a client fault.
            raise ParseError(TOO_DEEP) from exc


class FormParser(parsers.FormParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        ensure_body_size(parser_context)
        return super().parse(stream, media_type, parser_context)
