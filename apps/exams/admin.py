"""Staff tool for exam mode. Examiners and admins manage templates (with their fixed questions or
blueprint inline); sessions are read-only. Editors and candidates see none of it."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from apps.accounts.models import Role, User
from apps.accounts.permissions import has_role
from apps.audit.services import record_event
from apps.core.exceptions import DomainError
from apps.core.large_tables import LargeTableAdmin
from apps.exams.models import (
    BlueprintItem,
    ExamAnswer,
    ExamSession,
    ExamSessionEvent,
    ExamSitting,
    ExamTemplate,
    ExamTemplateQuestion,
    PaperSpec,
    PaperSpecCategory,
    PassStandard,
    TemplateKind,
)
from apps.exams.selectors.drawing import draw_plan
from apps.exams.services import publish_fixed_form


def _is_examiner(request: HttpRequest) -> bool:
    return has_role(request.user, Role.EXAMINER)


class ExaminerOnly:
    """Every admin permission answers "examiner or admin" by role."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_examiner(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_examiner(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_examiner(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_examiner(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_examiner(request)


class ReadOnlyForExaminers(ExaminerOnly):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _live_forms(formset: BaseInlineFormSet) -> list[Any]:
    return [
        form
        for form in formset.forms
        if form.has_changed() or form.instance.pk
        if getattr(form, "cleaned_data", None)
        if not form.cleaned_data.get("DELETE")
    ]


class BlueprintFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        template = self.instance
        if any(self.errors):
            return
        if template.kind == TemplateKind.PAPER and _live_forms(self):
            raise ValidationError(
                "A paper template draws to its paper's blueprint (Paper specs); remove these "
                "rows or make it a blueprint template."
            )
        if template.kind != TemplateKind.BLUEPRINT:
            return
        planned = sum(form.cleaned_data.get("count") or 0 for form in _live_forms(self))
        if planned != template.total_questions:
            raise ValidationError(
                f"The blueprint adds up to {planned} questions; the template declares "
                f"{template.total_questions}."
            )


class FixedQuestionFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        template = self.instance
        if template.kind != TemplateKind.FIXED or any(self.errors):
            return
        listed = len(_live_forms(self))
        if listed != template.total_questions:
            raise ValidationError(
                f"The template lists {listed} questions; it declares {template.total_questions}."
            )


class ExamTemplateQuestionInline(ExaminerOnly, admin.TabularInline):
    model = ExamTemplateQuestion
    formset = FixedQuestionFormSet
    raw_id_fields = ("question",)
    extra = 0
    ordering = ("order", "id")


class BlueprintItemInline(ExaminerOnly, admin.TabularInline):
    model = BlueprintItem
    formset = BlueprintFormSet
    extra = 0


@admin.register(ExamTemplate)
class ExamTemplateAdmin(ExaminerOnly, admin.ModelAdmin):
    list_display = ("name", "paper", "kind", "total_questions", "duration_minutes", "is_active")
    list_filter = ("paper", "kind", "is_active")
    search_fields = ("name",)
    inlines = (BlueprintItemInline, ExamTemplateQuestionInline)
    actions = ("publish_fixed_forms",)

    def save_model(self, request: HttpRequest, obj: ExamTemplate, form: Any, change: bool) -> None:
        if obj.kind == TemplateKind.PAPER:
            # A paper template runs in its paper's time; the stored value shows it as of now.
            obj.duration_minutes = draw_plan(obj).duration_minutes
        super().save_model(request, obj, form, change)

    @admin.action(description="Publish a fixed form from a draw of each selected template")
    def publish_fixed_forms(self, request: HttpRequest, queryset: QuerySet[ExamTemplate]) -> None:
        """Freezes one draw of each selected blueprint or paper template into a new fixed
        template (``<name>, form A``, then B, ...): the same paper for every candidate."""
        for template in queryset.order_by("id"):
            try:
                form = publish_fixed_form(template_id=template.id, actor=cast(User, request.user))
            except DomainError as error:
                self.message_user(request, f"{template.name}: {error.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"Published {form.name} ({form.total_questions} questions).",
                messages.SUCCESS,
            )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        template = form.instance
        record_event(
            kind="content",
            action="exam_template.update" if change else "exam_template.create",
            actor=request.user,
            target=template,
            after=_template_snapshot(template),
        )

    def delete_model(self, request: HttpRequest, obj: ExamTemplate) -> None:
        snapshot = _template_snapshot(obj)
        target_id = obj.pk
        super().delete_model(request, obj)
        record_event(
            kind="content",
            action="exam_template.delete",
            actor=request.user,
            target_type="exams.examtemplate",
            target_id=target_id or "",
            before=snapshot,
        )


class PaperSpecCategoryInline(ExaminerOnly, admin.TabularInline):
    model = PaperSpecCategory
    extra = 0


@admin.register(PaperSpec)
class PaperSpecAdmin(ExaminerOnly, admin.ModelAdmin):
    """The papers as the colleges set them; readiness and the paper mocks read them. Papers are
    fixed (1 and 2): examiners edit them, never add or delete one."""

    list_display = ("name", "paper", "question_count", "duration_minutes", "minimum_percent")
    inlines = (PaperSpecCategoryInline,)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        spec = form.instance
        record_event(
            kind="content",
            action="paper_spec.update",
            actor=request.user,
            target=spec,
            after={
                "question_count": spec.question_count,
                "duration_minutes": spec.duration_minutes,
                "minimum_percent": spec.minimum_percent,
                "blueprint": {str(c.category_id): c.count for c in spec.categories.all()},
            },
        )


@admin.register(PassStandard)
class PassStandardAdmin(ExaminerOnly, admin.ModelAdmin):
    list_display = ("combined_pass_mark_percent", "note", "updated_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not PassStandard.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: PassStandard, form: Any, change: bool) -> None:
        obj.pk = 1
        super().save_model(request, obj, form, change)
        record_event(
            kind="content",
            action="pass_standard.update",
            actor=request.user,
            target=obj,
            after={"combined_pass_mark_percent": obj.combined_pass_mark_percent},
        )


def _template_snapshot(template: ExamTemplate) -> dict[str, Any]:
    return {
        "name": template.name,
        "paper": template.paper,
        "kind": template.kind,
        "duration_minutes": template.duration_minutes,
        "total_questions": template.total_questions,
        "is_active": template.is_active,
        "blueprint": {str(item.category_id): item.count for item in template.blueprint_items.all()},
        "fixed_question_ids": [row.question_id for row in template.fixed_questions.all()],
    }


class ExamAnswerInline(ReadOnlyForExaminers, admin.TabularInline):
    model = ExamAnswer
    extra = 0
    can_delete = False
    fields = (
        "question",
        "selected_option_ids",
        "flagged",
        "time_spent_sec",
        "saved_at",
        "is_correct",
    )
    readonly_fields = fields


def _count_of(model: type[ExamSitting] | type[ExamSessionEvent]) -> Coalesce:
    """The number of ``model`` rows of the outer session."""
    rows = (
        model.objects.filter(session=OuterRef("pk"))
        .order_by()
        .values("session")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class ExamSittingInline(ReadOnlyForExaminers, admin.TabularInline):
    """Each network address and browser the session was opened from (signals, not proof)."""

    model = ExamSitting
    extra = 0
    can_delete = False
    fields = ("first_seen_at", "ip_address", "user_agent")
    readonly_fields = fields
    verbose_name = "sitting (address and browser)"


class ExamSessionEventInline(ReadOnlyForExaminers, admin.TabularInline):
    """The focus, visibility and resume signals of the session, in the order received."""

    model = ExamSessionEvent
    extra = 0
    can_delete = False
    fields = ("recorded_at", "occurred_at", "kind", "source", "sitting")
    readonly_fields = fields
    verbose_name = "integrity signal"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExamSessionEvent]:
        return super().get_queryset(request).select_related("sitting")


@admin.register(ExamSession)
class ExamSessionAdmin(LargeTableAdmin, ReadOnlyForExaminers, admin.ModelAdmin):  # type: ignore[misc]
    list_display = (
        "id",
        "user",
        "template",
        "status",
        "started_at",
        "submitted_at",
        "score_percent",
        "auto_submitted",
        "sittings_seen",
        "signals",
    )
    list_filter = ("status", "auto_submitted", "template")
    search_fields = ("user__email", "template__name")
    list_select_related = ("user", "template")
    inlines = (ExamSittingInline, ExamSessionEventInline, ExamAnswerInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExamSession]:
        # Counted per row in the list's one query (subqueries: two joins would multiply).
        return (
            super()
            .get_queryset(request)
            .annotate(
                sittings_seen=_count_of(ExamSitting),
                signals=_count_of(ExamSessionEvent),
            )
        )

    @admin.display(description="sittings", ordering="sittings_seen")
    def sittings_seen(self, obj: ExamSession) -> int:
        """Distinct address and browser pairs the session was opened from."""
        return int(getattr(obj, "sittings_seen", 0) or 0)

    @admin.display(description="integrity signals", ordering="signals")
    def signals(self, obj: ExamSession) -> int:
        return int(getattr(obj, "signals", 0) or 0)

    readonly_fields = (
        "user",
        "template",
        "question_ids",
        "option_order",
        "seed",
        "started_at",
        "expires_at",
        "submitted_at",
        "status",
        "auto_submitted",
        "score_percent",
        "correct",
        "answered",
        "time_spent_sec",
        "result",
    )
