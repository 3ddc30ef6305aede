from django.urls import URLPattern, URLResolver, path

from apps.recommendations.api import views

app_name = "recommendations"

urlpatterns: list[URLPattern | URLResolver] = [
    path("recommendations/topics", views.SuggestedTopicsView.as_view(), name="topics-list"),
    path("recommendations/dismiss", views.DismissTopicView.as_view(), name="topics-dismiss"),
]
