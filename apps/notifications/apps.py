from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"

    def ready(self) -> None:
        # Register the tasks in every process (web too), so enqueueing by name finds them and
        # eager mode (development, tests) runs them inline.
        from apps.notifications import tasks  # noqa: F401
