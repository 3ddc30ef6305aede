"""Content admins (taxonomy, questions, resources, cms): who may use them, and a record of
every change.

- :class:`EditorAccessMixin` opens a content admin (and its inlines) to staff users whose role
  is editor or admin, without hand-assigning Django model permissions; others fall back to
  Django's permissions.
- :class:`AuditedAdminMixin` records an audit event (kind ``content``) with the object's values
  before and after each add, change (including inline rows) and delete, and offers
  :meth:`~AuditedAdminMixin.audited_update` for bulk actions.

They live with the trail they write to, below every app whose admin uses them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.audit.services import record_event
from apps.audit.snapshots import model_snapshot
from apps.core.roles import Role, has_role


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def is_content_editor(request: HttpRequest) -> bool:
    user = request.user
    return bool(getattr(user, "is_staff", False)) and has_role(user, Role.EDITOR)


class EditorAccessMixin:
    """Editors and admins (by role, staff flag set) may view, add, change and delete."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_content_editor(request) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_content_editor(request) or super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_content_editor(request) or super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_content_editor(request) or super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_content_editor(request) or super().has_delete_permission(request, obj)  # type: ignore[misc]


class AuditedAdminMixin(EditorAccessMixin):
    """Mix into a ``ModelAdmin`` (before it in the bases). Override :meth:`audit_snapshot` to
    include related rows edited inline."""

    audit_name: str = ""  # action prefix; defaults to the model name

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        return model_snapshot(obj)

    def _audit_prefix(self, obj: Any) -> str:
        return self.audit_name or obj._meta.model_name

    def _record(
        self, request: HttpRequest, obj: Any, action: str, before: Any, after: Any, pk: Any = None
    ) -> None:
        record_event(
            kind="content",
            action=f"{self._audit_prefix(obj)}.{action}",
            actor=request.user,
            target_type=obj._meta.label_lower,
            target_id=pk if pk is not None else obj.pk,
            before=before,
            after=after,
            ip_address=client_ip(request),
        )

    # The object is loaded before the form touches it: remember how it looked.
    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is not None and request.method == "POST":
            obj._audit_before = self.audit_snapshot(obj)
        return obj

    def after_related_saved(self, request: HttpRequest, obj: Any, change: bool) -> None:
        """Hook between saving the inlines and recording the event."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        obj = form.instance
        self.after_related_saved(request, obj, change)
        before = getattr(obj, "_audit_before", None) if change else None
        after = self.audit_snapshot(obj)
        if before != after:
            self._record(request, obj, "update" if change else "create", before, after)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before, pk = self.audit_snapshot(obj), obj.pk
        with transaction.atomic():
            super().delete_model(request, obj)  # type: ignore[misc]
            self._record(request, obj, "delete", before, None, pk=pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def audited_update(self, request: HttpRequest, queryset: QuerySet[Any], **changes: Any) -> int:
        """A bulk action that saves each object (so ``save`` rules apply) and audits each
        change; returns how many objects changed."""
        changed = 0
        for obj in queryset:
            if all(getattr(obj, field) == value for field, value in changes.items()):
                continue
            with transaction.atomic():
                before = self.audit_snapshot(obj)
                for field, value in changes.items():
                    setattr(obj, field, value)
                obj.save()
                self._record(request, obj, "update", before, self.audit_snapshot(obj))
            changed += 1
        return changed
