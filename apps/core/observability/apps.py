from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "apps.core.observability"
    label = "observability"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from apps.core.observability.slow_queries import install_on_new_connection

        # Development only: installed per connection when settings.SLOW_QUERY_MS is set.
        connection_created.connect(
            install_on_new_connection, dispatch_uid="observability-slow-queries"
        )
