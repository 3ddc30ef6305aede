from django.urls import URLPattern, URLResolver, path

from apps.quality.api import rekey, views

app_name = "quality"

urlpatterns: list[URLPattern | URLResolver] = [
    path("staff/questions/quality", views.QualityQueueView.as_view(), name="queue-list"),
    path(
        "staff/questions/<int:pk>/stats",
        views.QuestionStatsView.as_view(),
        name="question-stats",
    ),
    path(
        "staff/questions/<int:pk>/stats/refresh",
        views.QuestionStatsRefreshView.as_view(),
        name="question-stats-refresh",
    ),
    path(
        "staff/questions/<int:pk>/rekey", rekey.QuestionRekeyView.as_view(), name="question-rekey"
    ),
]
