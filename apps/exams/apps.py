from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "apps.exams"
    label = "exams"

    def ready(self) -> None:
        from apps.accounts.personal_data import personal_data_sections
        from apps.exams.selectors import personal_data

        personal_data_sections.provide("exams", personal_data)
