from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        # The OpenAPI auth scheme; the port family of the GDPR export's sections.
        from apps.accounts import personal_data, schema  # noqa: F401
