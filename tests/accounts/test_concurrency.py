"""Refresh rotation under real concurrency: separate threads, separate database connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.accounts.helpers import claims, tokens_for

CONCURRENT = 6


def _race(request: Callable[[APIClient], Any]) -> list[tuple[int, Any]]:
    """Runs ``request`` from CONCURRENT threads at once, each with its own connection."""
    barrier = threading.Barrier(CONCURRENT)
    results: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            client = APIClient()
            barrier.wait(timeout=10)
            response = request(client)
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_give_exactly_one_success() -> None:
    user = UserFactory()
    refresh = tokens_for(user.email)["refresh"]

    results = _race(lambda client: client.post("/api/v1/auth/refresh", {"refresh": refresh}))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * (CONCURRENT - 1)
    winner = next(body for status, body in results if status == 200)
    session = AuthSession.objects.get(user=user)
    # The session now holds exactly the winner's refresh token, and that token works once more.
    assert session.refresh_jti == claims(winner["refresh"])["jti"]
    again = APIClient().post("/api/v1/auth/refresh", {"refresh": winner["refresh"]})
    assert again.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_logins_with_one_totp_code_give_exactly_one_success() -> None:
    """A code works once even when sent by several clients at the same moment: the device row
    is locked while a code is checked."""
    user = UserFactory()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    code = str(totp.token()).zfill(device.digits)
    body = {"email": user.email, "password": DEFAULT_PASSWORD, "otp": code}

    results = _race(lambda client: client.post("/api/v1/auth/login", body))

    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) == 1, results
    assert len(statuses) == CONCURRENT
    # The others: the code already spent (401), or the wait after that failure (429).
    assert {body["code"] for status, body in results if status != 200} <= {
        "otp_invalid",
        "too_many_otp_failures",
    }
