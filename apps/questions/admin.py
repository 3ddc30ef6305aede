"""Django Admin for the question bank: inline options and media, validated like the API, a
candidate preview, bulk publish/retire, and the import upload. Every change is audited.

Authoring helps (five numbered option rows on the add page, the preview of the unsaved form with
its key and explanation, the allowed HTML, the import templates) are in :mod:`.admin_authoring`.
The quality app's workbench extends the question page with statistics, reports, versions and
re-keying by registering a subclass of :class:`QuestionAdmin`."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models as db_models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.audit.admin_mixins import AuditedAdminMixin, EditorAccessMixin
from apps.core.richtext import sanitize_html
from apps.questions import admin_authoring, services
from apps.questions.admin_imports import ImportJobAdmin  # registered there
from apps.questions.models import (
    AnswerOption,
    Question,
    QuestionMedia,
    QuestionStatus,
    QuestionVersion,
)
from apps.questions.normalisation import stem_fingerprint
from apps.questions.services.questions import category_counts_changed
from apps.questions.services.versions import snapshot_question

__all__ = ["AnswerOptionInline", "ImportJobAdmin", "QuestionAdmin", "QuestionMediaInline"]


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

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        """A new question starts with five rows (min_num of them required), numbered 1-5 by
        :meth:`QuestionAdmin.get_formset_kwargs`; an existing one shows its own options."""
        if obj is None:
            return max(admin_authoring.OPTION_ROWS_ON_ADD - self.min_num, 0)
        return 0


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

    change_form_template = "admin/questions/question/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        return super().get_queryset(request).select_related("category", "subcategory")

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "preview/",
            self.admin_site.admin_view(require_POST(self.preview_view)),
            name="questions_question_preview",
        )
        return [preview, *super().get_urls()]

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Any, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, AnswerOptionInline) and obj.pk is None:
            # Numbered rows: a row left blank keeps its initial number and counts as unchanged.
            rows = admin_authoring.OPTION_ROWS_ON_ADD
            kwargs["initial"] = [{"order": number} for number in range(1, rows + 1)]
        return kwargs

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        context["allowed_html"] = admin_authoring.allowed_html()
        if self.has_add_permission(request) or self.has_change_permission(request, obj):
            context["preview_url"] = reverse("admin:questions_question_preview")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The change form's POST (sent by its Preview button) shown as it would be saved,
        key and explanation included; nothing is written."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Preview (not saved)",
            "preview": admin_authoring.preview_from_post(request.POST),
        }
        return TemplateResponse(request, "admin/questions/question/preview.html", context)

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
