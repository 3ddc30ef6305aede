from django.apps import AppConfig


class ReadinessConfig(AppConfig):
    """Readiness: a Rasch model calibrated nightly from first attempts, each learner's ability
    with its uncertainty, and from them the chance of passing each paper and Part A. Above the
    learning record (analytics) and the exam standards (exams), below the study engine,
    recommendations and the dashboard."""

    name = "apps.readiness"
    label = "readiness"

    def ready(self) -> None:
        from apps.questions.difficulty import difficulty_provider
        from apps.readiness.selectors import question_difficulties

        difficulty_provider.provide(question_difficulties)
