from django.apps import AppConfig


class QuestionsConfig(AppConfig):
    name = "apps.questions"
    label = "questions"

    def ready(self) -> None:
        from apps.questions import learning  # noqa: F401  (declares the answer-recorder port)
