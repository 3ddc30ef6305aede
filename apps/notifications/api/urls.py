from django.urls import URLPattern, URLResolver, path

from apps.notifications.api import views

app_name = "notifications"

urlpatterns: list[URLPattern | URLResolver] = [
    path("notifications", views.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/read-all",
        views.NotificationReadAllView.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/preferences",
        views.NotificationPreferenceView.as_view(),
        name="preference-detail",
    ),
    path(
        "notifications/<int:notification_id>/read",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
]
