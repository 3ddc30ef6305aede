"""Top-level routes. Every API lives under /api/v1/; trailing slashes are optional."""

from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core.api.views import ApiIndexView
from apps.core.observability.views import metrics_view

api_v1: list[URLPattern | URLResolver] = [
    path("", include("apps.core.api.urls")),
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.taxonomy.api.urls")),
    path("", include("apps.questions.api.urls")),
    path("", include("apps.resources.api.urls")),
    path("", include("apps.cms.api.urls")),
    path("", include("apps.practice.api.urls")),
    path("", include("apps.exams.api.urls")),
    path("", include("apps.analytics.api.urls")),
    path("", include("apps.readiness.api.urls")),
    path("", include("apps.study.api.urls")),
    path("", include("apps.recommendations.api.urls")),
    path("", include("apps.notifications.api.urls")),
    path("", include("apps.dashboard.api.urls")),
    path("", include("apps.quality.api.urls")),
    path("", include("apps.billing.api.urls")),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
]
if apps.is_installed("apps.bench"):
    # Benchmark controls (local and bench settings only), resolved first, right after core's
    # health routes as they always were: the controls are the benchmark's reference, so their
    # URL lookup must not grow with the rest of the API.
    api_v1.insert(1, path("", include("apps.bench.api.urls")))

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),  # Prometheus; outside the API schema
    # /api/v1/ arrives here as /api/v1 (ApiHardeningMiddleware drops trailing slashes).
    path("api/v1", ApiIndexView.as_view(), name="api-index"),
    path("api/v1/", include(api_v1)),
    path(
        "api/docs",
        # Split view: the init script is a separate file, so the page needs no inline script.
        SpectacularSwaggerSplitView.as_view(url_name="schema"),
        name="docs",
    ),
]

handler400 = "apps.core.api.exception_handler.bad_request"
handler404 = "apps.core.api.exception_handler.not_found"
handler500 = "apps.core.api.exception_handler.server_error"
