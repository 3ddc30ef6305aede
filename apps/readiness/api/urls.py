from django.urls import URLPattern, URLResolver, path

from apps.readiness.api import views

app_name = "readiness"

urlpatterns: list[URLPattern | URLResolver] = [
    path("analytics/readiness", views.ReadinessView.as_view(), name="readiness"),
]
