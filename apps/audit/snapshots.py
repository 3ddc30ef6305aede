"""How an object looked, as the audit trail stores it: JSON-safe values of its concrete fields.

Used by the content admins (:mod:`apps.audit.admin_mixins`) and by the services that audit the
same changes made through the API, so both record the same shape.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.db import models


def json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (bytes, memoryview)):
        return f"<{len(value)} bytes>"
    return str(value)


def model_snapshot(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The concrete fields of ``obj`` (foreign keys as ids), JSON-safe."""
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or field.name in ("created_at", "updated_at"):
            continue
        out[field.attname] = json_safe(field.value_from_object(obj))
    return out
