from django.urls import URLPattern, URLResolver

app_name = "taxonomy"

urlpatterns: list[URLPattern | URLResolver] = []
