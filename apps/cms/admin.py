"""Django Admin for pages and the featured carousel. Every change is audited."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from apps.audit.admin_mixins import AuditedAdminMixin
from apps.cms.models import FeaturedItem, Page
from apps.core.richtext import sanitize_html


@admin.register(Page)
class PageAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("slug", "title", "is_published", "updated_at")
    list_filter = ("is_published",)
    search_fields = ("slug", "title", "body")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("preview", "updated_at")
    actions = ("publish", "unpublish")

    @admin.display(description="Preview (as served)")
    def preview(self, obj: Page) -> SafeString:
        return format_html(
            "<div style='max-width:720px'>{}</div>",
            mark_safe(sanitize_html(obj.body)),  # noqa: S308  # nosec B308 B703 # sanitised by nh3
        )

    @admin.action(description="Publish selected pages")
    def publish(self, request: HttpRequest, queryset: QuerySet[Page]) -> None:
        self.message_user(
            request, f"{self.audited_update(request, queryset, is_published=True)} published."
        )

    @admin.action(description="Unpublish selected pages")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Page]) -> None:
        self.message_user(
            request, f"{self.audited_update(request, queryset, is_published=False)} unpublished."
        )


@admin.register(FeaturedItem)
class FeaturedItemAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "subtitle", "order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "subtitle")
    ordering = ("order", "id")
