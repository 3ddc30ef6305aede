from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "apps.recommendations"
    label = "recommendations"

    def ready(self) -> None:
        from apps.accounts.personal_data import register_exporter
        from apps.recommendations.selectors import personal_data

        register_exporter("recommendations", lambda user_id: personal_data(user_id=user_id))
