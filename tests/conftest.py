"""Shared fixtures: real PostgreSQL and Redis, an API client per role, a clean cache per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts.models import Role, User
from tests.accounts.factories import UserFactory

# Reliability figures (faults, concurrency, fuzzing, ASVS) printed at the end of the run.
pytest_plugins = ["tests.reliability_report"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """The suite builds each worker's database from the models (``--no-migrations``); the answer
    histories are then partitioned by the migrations' own code, as in every deployment, so every
    test runs against the partitioned tables (docs/partitioning.md)."""
    from django.db import connection

    from apps.core import partitioning

    with django_db_blocker.unblock():
        partitioning.convert_all(connection)


@pytest.fixture(autouse=True, scope="session")
def _celery_imported_once() -> None:
    """Celery's Django fix-up runs ``django.setup()`` the first time a process publishes a task,
    which re-applies ``LOGGING`` and drops the handlers ``caplog`` added: a test whose flow was
    the process's first publish saw no log records after it. Importing the task modules once,
    before any test, takes that first time out of the tests."""
    from config.celery import app

    app.loader.import_default_modules()


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Removes only this worker's keys, so parallel workers never disturb each other."""
    yield
    delete_pattern = getattr(cache, "delete_pattern", None)
    if delete_pattern is not None:
        delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _forget_process_models() -> Iterator[None]:
    """Readiness's compiled model and the shared bank counts (recommendations, the study day) are
    kept per process for a minute; each test's database starts empty, so each test starts
    without them."""
    from apps.questions.selectors import forget_published_question_count
    from apps.readiness.compiled import forget_compiled_model
    from apps.recommendations.ranking import forget_shared_inputs

    forget_compiled_model()
    forget_shared_inputs()
    forget_published_question_count()
    yield
    forget_compiled_model()
    forget_shared_inputs()
    forget_published_question_count()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def client_for(user: User) -> APIClient:
    """An API client authenticated with a real access token issued by the login flow's code."""
    from apps.accounts.tokens import issue_tokens_for

    client = APIClient()
    tokens = issue_tokens_for(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


@pytest.fixture
def user(db: Any) -> User:
    return UserFactory()


@pytest.fixture
def other_user(db: Any) -> User:
    return UserFactory()


@pytest.fixture
def editor(db: Any) -> User:
    return UserFactory(role=Role.EDITOR, is_staff=True)


@pytest.fixture
def examiner(db: Any) -> User:
    return UserFactory(role=Role.EXAMINER, is_staff=True)


@pytest.fixture
def admin_user(db: Any) -> User:
    return UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def user_client(user: User) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user: User) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def editor_client(editor: User) -> APIClient:
    return client_for(editor)


@pytest.fixture
def examiner_client(examiner: User) -> APIClient:
    return client_for(examiner)


@pytest.fixture
def admin_client_api(admin_user: User) -> APIClient:
    return client_for(admin_user)
