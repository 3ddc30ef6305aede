from django.urls import URLPattern, URLResolver, path

from apps.questions.api import views

app_name = "questions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("questions", views.QuestionListCreateView.as_view(), name="question-list"),
    path("questions/import", views.ImportCreateView.as_view(), name="import-create"),
    path("questions/import/<int:job_id>", views.ImportDetailView.as_view(), name="import-detail"),
    path("questions/<int:pk>", views.QuestionDetailView.as_view(), name="question-detail"),
]
