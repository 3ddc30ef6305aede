"""The study engine's named rule breaks; the shared handler turns them into the error envelope."""

from __future__ import annotations

from apps.core.exceptions import ValidationFailed


class UnknownCategory(ValidationFailed):
    default_message = "Unknown category."
