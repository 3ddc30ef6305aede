from django.contrib import admin

from apps.recommendations.models import TopicDismissal


@admin.register(TopicDismissal)
class TopicDismissalAdmin(admin.ModelAdmin):
    list_display = ("user", "category", "dismissed_at")
    list_select_related = ("user", "category")
    search_fields = ("user__email", "category__name")
    raw_id_fields = ("user",)
    readonly_fields = ("user", "category", "dismissed_at")
