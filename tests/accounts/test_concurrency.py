"""Refresh rotation under real concurrency: separate threads, separate database connections."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession
from tests.accounts.factories import UserFactory
from tests.accounts.helpers import claims, tokens_for

CONCURRENT = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_give_exactly_one_success() -> None:
    user = UserFactory()
    refresh = tokens_for(user.email)["refresh"]
    barrier = threading.Barrier(CONCURRENT)
    results: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            client = APIClient()
            barrier.wait(timeout=10)
            response = client.post("/api/v1/auth/refresh", {"refresh": refresh})
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * (CONCURRENT - 1)
    winner = next(body for status, body in results if status == 200)
    session = AuthSession.objects.get(user=user)
    # The session now holds exactly the winner's refresh token, and that token works once more.
    assert session.refresh_jti == claims(winner["refresh"])["jti"]
    again = APIClient().post("/api/v1/auth/refresh", {"refresh": winner["refresh"]})
    assert again.status_code == 200
