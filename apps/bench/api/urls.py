"""The benchmark's control endpoints, routed by ``config/urls.py`` only where the bench app is
installed (local and benchmark settings)."""

from django.urls import URLPattern, URLResolver, path

from apps.bench.api import views

app_name = "bench"

urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/control", views.BareControlView.as_view(), name="bench-control"),
    path("bench/cached", views.CachedControlView.as_view(), name="bench-cached"),
]
