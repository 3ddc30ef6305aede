from django.urls import URLPattern, URLResolver, path

from apps.resources.api import views

app_name = "resources"

urlpatterns: list[URLPattern | URLResolver] = [
    path("resources", views.ResourceListView.as_view(), name="resource-list"),
    path("resources/<int:pk>", views.ResourceDetailView.as_view(), name="resource-detail"),
]
