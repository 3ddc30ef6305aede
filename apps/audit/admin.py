"""The audit trail in the admin: staff read, filter, search and export it; nobody edits it.

No add, change or delete permission exists for anyone, superusers included; the model refuses
updates as well (``AuditEvent.save``). Viewing is for admins (role or superuser) and staff
explicitly granted ``audit.view_auditevent``.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import PermissionsMixin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import URLPattern, path
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_csv_rows
from apps.audit.services import record_event
from apps.core.roles import Role, has_role


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def stream_csv(events: QuerySet[AuditEvent], *, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in audit_csv_rows(events)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    change_list_template = "admin/audit/auditevent/change_list.html"
    list_display = (
        "occurred_at",
        "kind",
        "action",
        "actor_label",
        "target_type",
        "target_id",
        "subject_user_id",
        "ip_address",
    )
    list_filter = ("kind", "action", ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("actor_label", "target_type", "target_id", "action")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-id")
    show_full_result_count = False
    list_per_page = 100
    actions = ("export_selected_csv",)
    fields = (
        "occurred_at",
        "kind",
        "action",
        "actor",
        "actor_label",
        "target_type",
        "target_id",
        "subject_user_id",
        "before",
        "after",
        "ip_address",
        "request_id",
    )
    readonly_fields = fields

    # --- Permissions: read-only for everyone --------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        if not (user.is_active and getattr(user, "is_staff", False)):
            return False
        return has_role(user, Role.ADMIN) or (
            isinstance(user, PermissionsMixin)
            and (user.is_superuser or user.has_perm("audit.view_auditevent"))
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    # --- CSV export ------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="{}_{}_export".format(*info),
        )
        return [export, *super().get_urls()]

    def _export(self, request: HttpRequest, events: QuerySet[AuditEvent], scope: str) -> Any:
        record_event(
            kind=AuditEvent.Kind.DATA,
            action="audit.exported",
            actor=request.user,
            after={"scope": scope, "query": request.GET.urlencode()[:500]},
            ip_address=request.META.get("REMOTE_ADDR"),
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return stream_csv(events, filename=f"audit-{stamp}.csv")

    def export_view(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        """Streams every event the changelist shows with the same filters and search (all pages)."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        changelist = self.get_changelist_instance(request)
        # Bounded by the newest event now, so the export's own audit event is not in the file.
        newest = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        events = changelist.get_queryset(request).filter(pk__lte=newest)
        return self._export(request, events, scope="filtered")

    @admin.action(description="Export the selected events as CSV")
    def export_selected_csv(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent]
    ) -> StreamingHttpResponse:
        return self._export(request, queryset, scope="selected")
