"""Django Admin for the syllabus. Every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from apps.audit.admin_mixins import AuditedAdminMixin, EditorAccessMixin
from apps.audit.snapshots import model_snapshot
from apps.taxonomy.models import Category, Subcategory, Tag
from apps.taxonomy.services import forget_active_categories


class SubcategoryInline(EditorAccessMixin, admin.TabularInline):
    model = Subcategory
    fields = ("order", "name", "slug", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    extra = 0


@admin.register(Category)
class CategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    inlines = (SubcategoryInline,)
    list_display = ("name", "slug", "order", "is_active", "published_questions")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("order", "name")
    actions = ("activate", "deactivate")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return (
            super()
            .get_queryset(request)
            .annotate(published_count=Count("questions", filter=Q(questions__status="published")))
        )

    @admin.display(description="published questions", ordering="published_count")
    def published_questions(self, obj: Any) -> int:
        return int(getattr(obj, "published_count", 0))

    def audit_snapshot(self, obj: Category) -> dict[str, Any]:
        snapshot = model_snapshot(obj)
        snapshot["subcategories"] = (
            [model_snapshot(s) for s in obj.subcategories.order_by("id")] if obj.pk else []
        )
        return snapshot

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(forget_active_categories)

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        from django.db.models import ProtectedError

        transaction.on_commit(forget_active_categories)

        try:
            super().delete_model(request, obj)
        except ProtectedError:
            messages.error(
                request,
                f"{obj.name} still has questions; deactivate it instead of deleting it.",
            )

    @admin.action(description="Activate selected categories")
    def activate(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        n = self.audited_update(request, queryset, is_active=True)
        transaction.on_commit(forget_active_categories)
        self.message_user(request, f"{n} categor(y/ies) activated.")

    @admin.action(description="Deactivate selected categories (hides their questions)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        n = self.audited_update(request, queryset, is_active=False)
        transaction.on_commit(forget_active_categories)
        self.message_user(request, f"{n} categor(y/ies) deactivated.")


@admin.register(Tag)
class TagAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
