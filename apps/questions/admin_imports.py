"""Django Admin for question imports: the upload page (the same job as the API's import), the
downloadable templates it links, and the read-only job records with their per-row report."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.accounts.models import User
from apps.audit.admin_mixins import EditorAccessMixin
from apps.core.exceptions import DomainError
from apps.questions import admin_authoring, services
from apps.questions.models import ImportJob, QuestionStatus


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV, JSON or XLSX; at most 5 MB and 5000 rows.")
    dry_run = forms.BooleanField(required=False, help_text="Validate and report only.")
    status = forms.ChoiceField(
        choices=[(QuestionStatus.DRAFT, "Draft"), (QuestionStatus.PUBLISHED, "Published")],
        initial=QuestionStatus.DRAFT,
        help_text="Status of imported questions whose row does not say.",
    )


@admin.register(ImportJob)
class ImportJobAdmin(EditorAccessMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "filename",
        "format",
        "dry_run",
        "status",
        "created_count",
        "duplicate_count",
        "invalid_count",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "format", "dry_run")
    list_select_related = ("created_by",)
    exclude = ("content", "report")
    readonly_fields = (
        "status",
        "created_by",
        "filename",
        "format",
        "dry_run",
        "default_status",
        "size_bytes",
        "total_rows",
        "created_count",
        "duplicate_count",
        "invalid_count",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "report_table",
    )

    def get_urls(self) -> list[URLPattern]:
        upload = path(
            "upload/",
            self.admin_site.admin_view(self.upload_view),
            name="questions_importjob_upload",
        )
        template = path(
            "template.<str:fmt>",
            self.admin_site.admin_view(self.template_view),
            name="questions_importjob_template",
        )
        return [upload, template, *super().get_urls()]

    def template_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        """The import template (columns and example rows) to download, as CSV or XLSX."""
        if not self.has_add_permission(request):
            raise Http404
        if fmt == "csv":
            body, content_type = admin_authoring.import_template_csv(), "text/csv; charset=utf-8"
        elif fmt == "xlsx":
            body = admin_authoring.import_template_xlsx()
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            raise Http404
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="questions-template.{fmt}"'
        return response

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # jobs are records; the detail page is read-only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(getattr(request.user, "is_superuser", False))

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportJob]:
        return super().get_queryset(request).defer("content")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:questions_importjob_upload"))

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                services.ensure_import_size(size=upload.size or 0)
                job = services.create_import_job(
                    actor=cast(User, request.user),
                    filename=upload.name or "",
                    content=upload.read(),
                    dry_run=form.cleaned_data["dry_run"],
                    default_status=form.cleaned_data["status"],
                )
            except DomainError as exc:
                detail = "; ".join(m for ms in (exc.fields or {}).values() for m in ms)
                form.add_error("file", f"{exc.message} {detail}".strip())
            else:
                self.message_user(request, f"Import #{job.pk} queued.")
                return HttpResponseRedirect(
                    reverse("admin:questions_importjob_change", args=[job.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Import questions",
        }
        return TemplateResponse(request, "admin/questions/importjob/upload.html", context)

    @admin.display(description="Report")
    def report_table(self, obj: ImportJob) -> SafeString:
        rows = obj.report or []
        if not rows:
            return mark_safe("<em>No report yet.</em>")  # nosec B308 # constant
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    r.get("row"),
                    r.get("status"),
                    r.get("question_id") or r.get("duplicate_of") or "",
                    "; ".join(r.get("errors") or []),
                )
                for r in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>Row</th><th>Status</th><th>Question / duplicate of</th>"
            "<th>Problems</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )
