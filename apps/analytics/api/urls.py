from django.urls import URLPattern, URLResolver, path

from apps.analytics.api import views

app_name = "analytics"

urlpatterns: list[URLPattern | URLResolver] = [
    path("analytics/overview", views.OverviewView.as_view(), name="overview"),
    path("analytics/study-time", views.StudyTimeView.as_view(), name="study-time"),
    path("analytics/categories", views.CategoriesView.as_view(), name="categories"),
    path("analytics/heatmap", views.HeatmapView.as_view(), name="heatmap"),
    path("analytics/trends", views.TrendsView.as_view(), name="trends"),
    path("analytics/heartbeat", views.HeartbeatView.as_view(), name="heartbeat"),
]
