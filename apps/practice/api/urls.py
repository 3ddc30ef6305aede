from django.urls import URLPattern, URLResolver, path

from apps.practice.api import views

app_name = "practice"

urlpatterns: list[URLPattern | URLResolver] = [
    path("practice/sessions", views.SessionListCreateView.as_view(), name="session-list"),
    path(
        "practice/sessions/<int:session_id>",
        views.SessionDetailView.as_view(),
        name="session-detail",
    ),
    path(
        "practice/sessions/<int:session_id>/questions",
        views.SessionQuestionsView.as_view(),
        name="session-questions",
    ),
    path(
        "practice/sessions/<int:session_id>/attempts",
        views.SessionAttemptView.as_view(),
        name="session-attempts",
    ),
    path(
        "practice/sessions/<int:session_id>/complete",
        views.SessionCompleteView.as_view(),
        name="session-complete",
    ),
    path("practice/review-queue", views.ReviewQueueView.as_view(), name="review-queue"),
    path("practice/summary", views.PracticeSummaryView.as_view(), name="summary"),
    path("practice/flags", views.FlagListCreateView.as_view(), name="flag-list"),
    path("practice/flags/<int:question_id>", views.FlagDetailView.as_view(), name="flag-detail"),
    path("practice/reports", views.ReportCreateView.as_view(), name="report-create"),
]
