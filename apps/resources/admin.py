"""Django Admin for study resources. Every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.audit.admin_mixins import AuditedAdminMixin
from apps.resources.models import Resource
from apps.resources.services import forget_featured_resources


@admin.register(Resource)
class ResourceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "kind",
        "author",
        "category",
        "duration_sec",
        "is_featured",
        "is_published",
        "published_at",
        "order",
    )
    list_filter = ("kind", "is_featured", "is_published", "category")
    list_select_related = ("category",)
    search_fields = ("title", "author", "description")
    autocomplete_fields = ("category",)
    date_hierarchy = "published_at"
    actions = ("publish", "unpublish", "feature", "unfeature")
    fieldsets = (
        (None, {"fields": ("kind", "title", "author", "category", "description")}),
        ("Media", {"fields": ("url", "thumbnail_url", "captions_url", "alt_text", "duration_sec")}),
        ("Publishing", {"fields": ("is_published", "published_at", "is_featured", "order")}),
    )

    def save_model(self, request: HttpRequest, obj: Resource, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        forget_featured_resources()

    def delete_model(self, request: HttpRequest, obj: Resource) -> None:
        super().delete_model(request, obj)
        forget_featured_resources()

    def response_action(
        self, request: HttpRequest, queryset: Any, *args: Any, **kwargs: Any
    ) -> Any:
        # Every bulk action here changes what is published or featured.
        response = super().response_action(request, queryset, *args, **kwargs)
        forget_featured_resources()
        return response

    @admin.action(description="Publish selected resources")
    def publish(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        n = 0
        for resource in queryset:
            changes: dict[str, object] = {"is_published": True}
            if resource.published_at is None:
                changes["published_at"] = timezone.now()
            n += self.audited_update(request, queryset.filter(pk=resource.pk), **changes)
        self.message_user(request, f"{n} resource(s) published.")

    @admin.action(description="Unpublish selected resources")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        n = self.audited_update(request, queryset, is_published=False)
        self.message_user(request, f"{n} resource(s) unpublished.")

    @admin.action(description="Feature selected resources")
    def feature(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        n = self.audited_update(request, queryset, is_featured=True)
        self.message_user(request, f"{n} resource(s) featured.")

    @admin.action(description="Stop featuring selected resources")
    def unfeature(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        n = self.audited_update(request, queryset, is_featured=False)
        self.message_user(request, f"{n} resource(s) no longer featured.")
