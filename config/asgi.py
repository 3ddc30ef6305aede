import os

from django.core.asgi import get_asgi_application

from apps.core.observability.tracing import configure_tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

configure_tracing()  # only when OTEL_EXPORTER_OTLP_ENDPOINT is set; before the handler is built
application = get_asgi_application()
