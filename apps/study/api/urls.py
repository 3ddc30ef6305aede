from django.urls import URLPattern, URLResolver, path

from apps.study.api import views

app_name = "study"

urlpatterns: list[URLPattern | URLResolver] = [
    path("study/today", views.StudyTodayView.as_view(), name="today"),
    path("analytics/memory", views.MemoryView.as_view(), name="memory"),
    path("analytics/memory/cards", views.MemoryCardsView.as_view(), name="memory-cards"),
]
