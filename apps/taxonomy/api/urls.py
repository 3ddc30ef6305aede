from django.urls import URLPattern, URLResolver, path

from apps.taxonomy.api import views

app_name = "taxonomy"

urlpatterns: list[URLPattern | URLResolver] = [
    path("categories", views.CategoryListView.as_view(), name="category-list"),
    path("categories/<slug:slug>", views.CategoryDetailView.as_view(), name="category-detail"),
]
