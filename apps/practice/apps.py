from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "apps.practice"
    label = "practice"

    def ready(self) -> None:
        from apps.accounts.personal_data import personal_data_sections
        from apps.practice.selectors import personal_data

        personal_data_sections.provide("practice", personal_data)
