"""The audit trail's only writer. Secrets are stripped before anything is stored."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, models, transaction

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


def record_content_change(
    *,
    action: str,
    actor: Any,
    target: models.Model,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEvent | None:
    """A staff content change (create: ``before`` None; delete: ``after`` None). An update that
    changed nothing is not recorded. The target's type and id are read before any delete."""
    if before is not None and after is not None and before == after:
        return None
    return record_event(
        kind=AuditEvent.Kind.CONTENT,
        action=action,
        actor=actor,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        before=before,
        after=after,
    )


def pseudonymise_user(*, user_id: int, email: str) -> int:
    """GDPR erasure inside an append-only log: the events stay, the person's address does not.

    Events the user caused, or that are about them, lose the email address (as actor label and
    anywhere in their before/after values); the numeric id stays as a pseudonym so that a
    security investigation can still group the events. Returns how many events changed.
    """
    label = f"deleted user #{user_id}"
    needle = email.lower()
    about = AuditEvent.objects.filter(
        models.Q(actor_id=user_id)
        | models.Q(subject_user_id=user_id)
        | models.Q(target_type="accounts.user", target_id=str(user_id))
        | models.Q(actor_label__iexact=email)
    )
    with erasure():
        changed = _pseudonymise(about, needle=needle, label=label)
    return changed


@contextmanager
def erasure() -> Iterator[None]:
    """Lets the enclosed statements rewrite who an event names (actor, before and after), the one
    change the database allows besides unlinking an actor; see ``apps.audit.apps``."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('openmrcs.audit_erasure', 'on', true)")
        yield
        # (On an error the savepoint's rollback undoes the flag as well.)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('openmrcs.audit_erasure', 'off', true)")


def _pseudonymise(about: models.QuerySet[AuditEvent], *, needle: str, label: str) -> int:
    changed = 0
    for event in about.only("pk", "actor_label", "before", "after"):
        updates: dict[str, Any] = {}
        if event.actor_label.lower() == needle:
            updates["actor_label"] = label
        for field in ("before", "after"):
            value = getattr(event, field)
            if value is not None and needle in json.dumps(value).lower():
                updates[field] = _replace_text(value, needle, label)
        if updates:
            # A queryset update: erasure is the one change the append-only log allows.
            AuditEvent.objects.filter(pk=event.pk).update(**updates)
            changed += 1
    return changed


def _replace_text(value: Any, needle: str, label: str) -> Any:
    if isinstance(value, dict):
        return {k: _replace_text(v, needle, label) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_text(v, needle, label) for v in value]
    if isinstance(value, str) and needle in value.lower():
        return re.sub(re.escape(needle), label, value, flags=re.IGNORECASE)
    return value


def actor_pseudonym(user_id: int) -> str:
    return f"deleted user #{user_id}"


def pseudonymise_actor(*, user_id: int) -> int:
    """Unlinks a deleted account from the events it performed and replaces its address with a
    pseudonym (GDPR erasure); the events themselves stay. Returns how many were changed."""
    return AuditEvent.objects.filter(actor_id=user_id).update(
        actor=None, actor_label=actor_pseudonym(user_id)
    )


def forget_deleted_actor(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``pre_delete`` receiver for the user model: erasure on every path (API, admin, shell).

    The address goes from the events about the person, and every event they performed is
    unlinked and pseudonymous even if it was recorded under an earlier address."""
    if instance.pk is None:
        return
    if getattr(instance, "email", ""):
        pseudonymise_user(user_id=instance.pk, email=instance.email)
    pseudonymise_actor(user_id=instance.pk)
