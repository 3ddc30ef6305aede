from django.urls import URLPattern, URLResolver, path

from apps.core.api import views

app_name = "core"

urlpatterns: list[URLPattern | URLResolver] = [
    path("health/live", views.LivenessView.as_view(), name="health-live"),
    path("health", views.ReadinessView.as_view(), name="health"),
]
