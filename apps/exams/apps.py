from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "apps.exams"
    label = "exams"

    def ready(self) -> None:
        from apps.accounts.personal_data import register_exporter
        from apps.exams.selectors import personal_data

        register_exporter("exams", lambda user_id: personal_data(user_id=user_id))
