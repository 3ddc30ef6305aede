from django.urls import URLPattern, URLResolver, path

from apps.dashboard.api import views

app_name = "dashboard"

urlpatterns: list[URLPattern | URLResolver] = [
    path("dashboard", views.DashboardView.as_view(), name="dashboard"),
]
