from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "apps.practice"
    label = "practice"

    def ready(self) -> None:
        from apps.accounts.personal_data import register_exporter
        from apps.practice.selectors import personal_data

        register_exporter("practice", lambda user_id: personal_data(user_id=user_id))
