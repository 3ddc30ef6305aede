from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"

    def ready(self) -> None:
        # Register the tasks in every process (web too), so enqueueing by name finds them and
        # eager mode (development, tests) runs them inline.
        from apps.accounts.personal_data import personal_data_sections
        from apps.notifications import tasks  # noqa: F401
        from apps.notifications.selectors import personal_data

        personal_data_sections.provide("notifications", personal_data)
