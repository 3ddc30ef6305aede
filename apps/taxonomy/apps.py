from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "apps.taxonomy"
    label = "taxonomy"

    def ready(self) -> None:
        from apps.taxonomy import progress  # noqa: F401  (declares the progress port)
