"""Django Admin for the question bank: inline options and media, validated like the API, a
candidate preview, bulk publish/retire, and the import upload. Every change is audited."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models as db_models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.accounts.models import User
from apps.audit.admin_mixins import AuditedAdminMixin, EditorAccessMixin
from apps.core.exceptions import DomainError
from apps.core.richtext import sanitize_html
from apps.questions import services
from apps.questions.models import (
    AnswerOption,
    ImportJob,
    Question,
    QuestionMedia,
    QuestionStatus,
    QuestionVersion,
)
from apps.questions.normalisation import stem_fingerprint
from apps.questions.services.questions import category_counts_changed
from apps.questions.services.versions import snapshot_question


def _actor(request: HttpRequest) -> User:
    """The editor behind an admin request (the admin site only serves logged-in staff)."""
    return cast(User, request.user)


class AnswerOptionFormSet(BaseInlineFormSet):
    """The option-set rule of the services, applied to the inline rows."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        options = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            options.append({"text": data.get("text", ""), "is_correct": data.get("is_correct")})
        errors = services.validate_option_set(type=self.instance.type, options=options)
        if errors:
            raise ValidationError(errors)


class AnswerOptionInline(EditorAccessMixin, admin.TabularInline):
    model = AnswerOption
    formset = AnswerOptionFormSet
    fields = ("order", "text", "is_correct")
    extra = 0
    min_num = 2
    ordering = ("order", "id")
    formfield_overrides = {
        # one line per option keeps five options on one screen
        db_models.TextField: {"widget": forms.TextInput(attrs={"size": 90})},
    }


class QuestionMediaInline(EditorAccessMixin, admin.TabularInline):
    model = QuestionMedia
    fields = ("order", "kind", "url", "alt_text", "caption")
    extra = 0


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = (
            "stem",
            "type",
            "category",
            "subcategory",
            "difficulty",
            "status",
            "explanation",
            "reference",
            "tags",
            "is_synthetic",
        )

    def clean_stem(self) -> str:
        stem: str = self.cleaned_data["stem"]
        if not sanitize_html(stem):
            raise ValidationError("The stem must not be blank.")
        duplicate = (
            Question.objects.filter(stem_normalised=stem_fingerprint(sanitize_html(stem)))
            .exclude(pk=self.instance.pk)
            .values_list("pk", flat=True)
            .first()
        )
        if duplicate is not None:
            raise ValidationError(f"Question #{duplicate} already has this stem.")
        return stem

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        category, subcategory = data.get("category"), data.get("subcategory")
        if category and subcategory and subcategory.category_id != category.pk:
            self.add_error("subcategory", "This subcategory belongs to another category.")
        return data


@admin.register(Question)
class QuestionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = QuestionAdminForm
    inlines = (AnswerOptionInline, QuestionMediaInline)
    list_display = (
        "id",
        "short_stem",
        "category",
        "type",
        "difficulty",
        "status",
        "version",
        "times_answered",
        "is_synthetic",
    )
    list_filter = ("status", "type", "difficulty", "category", "is_synthetic")
    list_select_related = ("category",)
    search_fields = ("stem",)
    autocomplete_fields = ("tags",)
    list_per_page = 50
    actions = ("publish_selected", "retire_selected")
    readonly_fields = (
        "candidate_preview",
        "version",
        "times_answered",
        "times_correct",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("stem", "type", "category", "subcategory", "difficulty", "status")}),
        ("Answer", {"fields": ("explanation", "reference", "tags")}),
        ("Candidate preview", {"fields": ("candidate_preview",)}),
        (
            "Record",
            {
                "classes": ("collapse",),
                "fields": (
                    "version",
                    "is_synthetic",
                    "times_answered",
                    "times_correct",
                    "created_by",
                    "updated_by",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        return super().get_queryset(request).select_related("category", "subcategory")

    @admin.display(description="stem")
    def short_stem(self, obj: Question) -> str:
        text = " ".join(obj.stem.split())
        return text[:90] + ("…" if len(text) > 90 else "")

    @admin.display(description="As a candidate sees it")
    def candidate_preview(self, obj: Question) -> SafeString:
        """The question rendered from the same fields the candidate API returns: stem,
        lettered options and media; no key, no explanation."""
        if obj.pk is None:
            return mark_safe("<em>Save the question to preview it.</em>")  # nosec B308 # constant
        options = format_html_join(
            "",
            "<li style='margin:4px 0'>{}</li>",
            ((mark_safe(sanitize_html(o.text)),) for o in obj.options.order_by("order", "id")),  # noqa: S308  # nosec B308 B703 # nh3
        )
        media = format_html_join(
            "",
            "<figure><img src='{}' alt='{}' style='max-width:320px'><figcaption>{}"
            "</figcaption></figure>",
            ((m.url, m.alt_text, m.caption) for m in obj.media.order_by("order", "id")),
        )
        kind = "Choose ONE answer" if obj.type == "single" else "Choose ALL that apply"
        return format_html(
            "<div style='max-width:720px;padding:12px;border:1px solid #ccc;border-radius:6px'>"
            "<div style='color:#666;font-size:11px'>{} · difficulty {}</div>"
            "<div style='margin:8px 0'>{}</div>{}<div style='color:#666'>{}</div>"
            "<ol type='A'>{}</ol></div>",
            obj.category.name,
            obj.difficulty,
            mark_safe(sanitize_html(obj.stem)),  # noqa: S308  # nosec B308 B703 # sanitised by nh3
            media,
            kind,
            options,
        )

    def audit_snapshot(self, obj: Question) -> dict[str, Any]:
        return services.question_snapshot(obj)

    def save_model(self, request: HttpRequest, obj: Question, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = _actor(request)
        else:  # keep the content before this edit, if no version holds it yet
            snapshot_question(question=obj, by=_actor(request))
        obj.updated_by = _actor(request)
        super().save_model(request, obj, form, change)
        category_counts_changed()  # its status or category may have changed

    def after_related_saved(self, request: HttpRequest, obj: Question, change: bool) -> None:
        # After the inlines: the options and the key are saved by now.
        reason = "Edited in the admin." if change else "Created."
        snapshot_question(question=obj, by=_actor(request), reason=reason)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Questions that attempts point at (PROTECT) are retired by delete_model rather than
        # deleted, so the confirmation page must not refuse them.
        deleted, counts, perms_needed, _protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: Question) -> None:
        # The service audits, and retires instead of deleting once the question was answered.
        outcome = services.delete_question(question=obj, actor=_actor(request))
        if outcome == "retired":
            messages.warning(
                request, f"Question #{obj.pk} has been answered, so it was retired, not deleted."
            )

    @admin.action(description="Publish selected questions")
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        n = services.set_status_bulk(
            question_ids=ids, status=QuestionStatus.PUBLISHED, actor=_actor(request)
        )
        self.message_user(request, f"{n} question(s) published.", messages.SUCCESS)

    @admin.action(description="Retire selected questions")
    def retire_selected(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        n = services.set_status_bulk(
            question_ids=ids, status=QuestionStatus.RETIRED, actor=_actor(request)
        )
        self.message_user(request, f"{n} question(s) retired.", messages.SUCCESS)


@admin.register(QuestionVersion)
class QuestionVersionAdmin(EditorAccessMixin, admin.ModelAdmin):
    """A question's history, to read: versions are made by the edit paths, never edited."""

    list_display = ("question", "number", "reason", "created_by", "created_at")
    list_select_related = ("question", "created_by")
    search_fields = ("question__stem",)
    readonly_fields = (
        "question",
        "number",
        "stem",
        "explanation",
        "type",
        "options",
        "correct_option_ids",
        "reason",
        "created_by",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
        return [upload, *super().get_urls()]

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
                    actor=_actor(request),
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
