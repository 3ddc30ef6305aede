from django.urls import URLPattern, URLResolver

app_name = "questions"

urlpatterns: list[URLPattern | URLResolver] = []
