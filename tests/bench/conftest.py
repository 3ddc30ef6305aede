"""The bench app is installed only by the local and bench settings, not the tests' settings:
these fixtures install it for the tests that need it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import clear_url_caches

WITH_BENCH = [*settings.INSTALLED_APPS, "apps.bench"]


def reload_urls() -> None:
    import config.urls

    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def bench_app() -> Iterator[None]:
    """``apps.bench`` installed (its ``bench_data`` command found), for the test only."""
    with override_settings(INSTALLED_APPS=WITH_BENCH):
        yield


@pytest.fixture
def bench_routes() -> Iterator[None]:
    """The bench app installed and its control endpoints routed, as in the bench settings."""
    with override_settings(INSTALLED_APPS=WITH_BENCH):
        reload_urls()
        try:
            yield
        finally:
            clear_url_caches()
    reload_urls()  # after the settings are back: the routes are gone again
