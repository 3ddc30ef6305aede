from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"

    def ready(self) -> None:
        # Register the tasks in every process (web too), so enqueueing by name finds them and
        # eager mode (development, tests) runs them inline.
        from apps.accounts.personal_data import register_exporter
        from apps.notifications import tasks  # noqa: F401
        from apps.notifications.selectors import personal_data

        register_exporter("notifications", lambda user_id: personal_data(user_id=user_id))
