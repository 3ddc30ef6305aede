from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"

    def ready(self) -> None:
        from apps.analytics.receivers import on_answers_recorded
        from apps.analytics.selectors import category_progress_for
        from apps.questions.learning import AnsweredQuestion, answers_recorded
        from apps.taxonomy.progress import set_progress_provider

        answers_recorded.connect(
            on_answers_recorded, sender=AnsweredQuestion, dispatch_uid="analytics.record_answers"
        )
        set_progress_provider(category_progress_for)

        from apps.accounts.personal_data import register_exporter
        from apps.analytics.selectors import personal_data

        register_exporter("analytics", lambda user_id: personal_data(user_id=user_id))
