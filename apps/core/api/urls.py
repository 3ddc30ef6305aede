from django.conf import settings
from django.urls import URLPattern, URLResolver, path

from apps.core.api import views

app_name = "core"

urlpatterns: list[URLPattern | URLResolver] = [
    path("health/live", views.LivenessView.as_view(), name="health-live"),
    path("health", views.ReadinessView.as_view(), name="health"),
]

if settings.BENCH_CONTROLS_ENABLED:  # benchmark controls (make bench); never in production
    from apps.core.api import bench_views

    urlpatterns += [
        path("bench/control", bench_views.BareControlView.as_view(), name="bench-control"),
        path("bench/cached", bench_views.CachedControlView.as_view(), name="bench-cached"),
    ]
