"""The audit trail's only writer. Secrets are stripped before anything is stored."""

from __future__ import annotations

from typing import Any

from django.db import models

from apps.audit.models import AuditEvent
from apps.core.request_context import request_id_var

_SECRET_MARKERS = ("password", "token", "secret", "otp", "refresh", "access", "key")


def _scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if any(marker in key.lower() for marker in _SECRET_MARKERS):
            clean[key] = "[redacted]"
        elif isinstance(value, dict):
            clean[key] = _scrub(value)
        else:
            clean[key] = value
    return clean


def record_event(
    *,
    kind: str,
    action: str,
    actor: Any = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    subject_user_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Appends one event. ``actor`` is a user or None for the system."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    actor_obj = actor if getattr(actor, "pk", None) else None
    return AuditEvent.objects.create(
        kind=kind,
        action=action,
        actor=actor_obj,
        actor_label=getattr(actor_obj, "email", "") if actor_obj else "system",
        target_type=target_type,
        target_id=str(target_id),
        subject_user_id=subject_user_id,
        before=_scrub(before),
        after=_scrub(after),
        ip_address=ip_address,
        request_id=request_id_var.get() or "",
    )
