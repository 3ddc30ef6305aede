from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark's dataset builder (``manage.py bench_data``). A tool at the top of the
    layers: it writes the tables of every app directly, in bulk, and no app imports it."""

    name = "apps.bench"
    label = "bench"
