from django.urls import URLPattern, URLResolver, path

from apps.cms.api import views

app_name = "cms"

urlpatterns: list[URLPattern | URLResolver] = [
    path("pages", views.PageCreateView.as_view(), name="page-create"),
    path("pages/<slug:slug>", views.PageDetailView.as_view(), name="page-detail"),
    path("featured-items", views.FeaturedItemListView.as_view(), name="featured-item-list"),
]
