from django.urls import URLPattern, URLResolver, path

from apps.exams.api import views

app_name = "exams"

urlpatterns: list[URLPattern | URLResolver] = [
    path("exams/templates", views.ExamTemplateListView.as_view(), name="template-list"),
    path("exams/sessions", views.ExamSessionListCreateView.as_view(), name="session-list"),
    path(
        "exams/sessions/<int:session_id>",
        views.ExamSessionDetailView.as_view(),
        name="session-detail",
    ),
    path(
        "exams/sessions/<int:session_id>/attempts",
        views.ExamAttemptsView.as_view(),
        name="session-attempts",
    ),
    path(
        "exams/sessions/<int:session_id>/submit",
        views.ExamSubmitView.as_view(),
        name="session-submit",
    ),
    path(
        "exams/sessions/<int:session_id>/events",
        views.ExamSessionEventView.as_view(),
        name="session-events",
    ),
    path(
        "exams/sessions/<int:session_id>/review",
        views.ExamReviewView.as_view(),
        name="session-review",
    ),
]
