from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "apps.recommendations"
    label = "recommendations"

    def ready(self) -> None:
        from apps.accounts.personal_data import personal_data_sections
        from apps.recommendations.selectors import personal_data

        personal_data_sections.provide("recommendations", personal_data)
