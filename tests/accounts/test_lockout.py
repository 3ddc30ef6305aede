"""Brute force without lockout (issue 13, item 2): an attacker's failures never shut the owner
out of a device or network that signed in before, strangers are slowed, and the owner is emailed
an unlock link that works once.

Before the fix every test here failed: ten failures for an address from anywhere made the right
password a 429 from everywhere, and there was no unlock link nor device token.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import KnownDevice, KnownNetwork, LoginFailure, User
from apps.accounts.services.limits import stranger_delay
from apps.audit.models import AuditEvent
from apps.core.exceptions import TooManyRequests
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.accounts.helpers import bearer
from tests.accounts.test_api import assert_envelope, token_from

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 4, 1, 9, 0, tzinfo=UTC)
ATTACKER_A = "203.0.113.9"
OWNER_B = "198.51.100.7"
OWNER_B_OTHER_HOST = "198.51.100.200"  # same /24 as OWNER_B
STRANGER_C = "192.0.2.5"
WRONG = "wrong password guess"


@pytest.fixture
def frozen(time_machine: Any) -> Any:
    time_machine.move_to(NOW, tick=False)
    return time_machine


def sign_in(client: APIClient, email: str, ip: str, device_token: str = "", **kw: Any) -> Any:
    body = {"email": email, "password": kw.pop("password", DEFAULT_PASSWORD)}
    if device_token:
        body["device_token"] = device_token
    return client.post("/api/v1/auth/login", body, REMOTE_ADDR=ip)


def attack(client: APIClient, email: str, ip: str, times: int) -> list[int]:
    return [sign_in(client, email, ip, password=WRONG).status_code for _ in range(times)]


def test_an_attacker_cannot_lock_the_owner_out_and_strangers_are_slowed(
    api_client: APIClient, user: User, frozen: Any
) -> None:
    owner = sign_in(api_client, user.email, OWNER_B)
    assert owner.status_code == 200, owner.content

    statuses = attack(api_client, user.email, ATTACKER_A, 50)
    assert statuses == [401] * 10 + [429] * 40  # refused attempts are never checked
    assert LoginFailure.objects.filter(email=user.email).count() == 10

    # The owner logs in at the first try from the network they signed in from before...
    first_try = sign_in(api_client, user.email, OWNER_B_OTHER_HOST)
    assert first_try.status_code == 200, first_try.content
    # ...and from the known device (its token), there or anywhere else.
    device_token = owner.json()["device_token"]
    from_device = sign_in(api_client, user.email, OWNER_B, device_token)
    assert from_device.status_code == 200, from_device.content
    assert from_device.json()["device_token"] == device_token
    assert sign_in(api_client, user.email, "100.64.7.7", device_token).status_code == 200

    # A stranger is slowed, even with the right password: 15 s after the last stranger failure.
    slowed = sign_in(api_client, user.email, STRANGER_C)
    assert_envelope(slowed, 429, "too_many_login_failures")
    assert 1 <= int(slowed["Retry-After"]) <= 16
    # Slowed, not shut out: after the wait one guess is checked, then the wait doubles.
    frozen.shift(timedelta(seconds=16))
    assert sign_in(api_client, user.email, STRANGER_C, password=WRONG).status_code == 401
    again = sign_in(api_client, user.email, STRANGER_C)
    assert_envelope(again, 429, "too_many_login_failures")
    assert 16 < int(again["Retry-After"]) <= 31
    # The attacker's own network stays refused for the hour.
    frozen.shift(timedelta(seconds=40))
    assert_envelope(sign_in(api_client, user.email, ATTACKER_A), 429, "too_many_login_failures")
    # The owner's successes did not give the attacker a fresh count.
    assert LoginFailure.objects.filter(email=user.email, source__startswith="n:203.").count() == 10


def test_many_networks_together_get_a_few_guesses_an_hour(user: User, frozen: Any) -> None:
    checked = 0
    for second in range(0, 3600, 10):  # a guess every 10 s from a new address each time
        frozen.move_to(NOW + timedelta(seconds=second))
        try:
            ip = f"10.{second // 256 % 256}.{second % 256}.1"
            services.log_in(email=user.email, password=WRONG, ip_address=ip)
        except TooManyRequests:
            continue
        except services.InvalidCredentials:
            checked += 1
    # 10 free, then 15 s, 30 s, 1 min, ... up to 15 min between guesses.
    assert 10 < checked <= 18
    assert stranger_delay(9) == 0
    assert [stranger_delay(n) for n in (10, 11, 12)] == [15, 30, 60]
    assert stranger_delay(16) == stranger_delay(500) == 900


def test_a_known_device_is_still_limited_by_its_own_failures(
    api_client: APIClient, user: User, frozen: Any
) -> None:
    """A stolen device token does not open brute force: it meets the per-source limit."""
    device_token = sign_in(api_client, user.email, OWNER_B).json()["device_token"]
    statuses = [
        sign_in(api_client, user.email, ATTACKER_A, device_token, password=WRONG).status_code
        for _ in range(11)
    ]
    assert statuses == [401] * 10 + [429]
    assert_envelope(
        sign_in(api_client, user.email, ATTACKER_A, device_token), 429, "too_many_login_failures"
    )
    # The device's failures are its own: the owner's network is not refused because of them.
    assert sign_in(api_client, user.email, OWNER_B_OTHER_HOST).status_code == 200


def test_a_device_token_counts_only_for_its_own_account(
    api_client: APIClient, user: User, other_user: User, frozen: Any
) -> None:
    theirs = sign_in(api_client, other_user.email, OWNER_B).json()["device_token"]
    attack(api_client, user.email, ATTACKER_A, 10)
    assert_envelope(
        sign_in(api_client, user.email, STRANGER_C, theirs), 429, "too_many_login_failures"
    )
    assert_envelope(
        sign_in(api_client, user.email, STRANGER_C, "made-up-token"), 429, "too_many_login_failures"
    )


def test_unlock_link_is_emailed_once_clears_the_failures_and_trusts_that_browser(
    api_client: APIClient, user: User, frozen: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        attack(api_client, user.email, ATTACKER_A, 12)
        frozen.shift(timedelta(minutes=2))
        attack(api_client, user.email, "203.0.114.9", 3)  # another network, past the wait
    assert LoginFailure.objects.filter(email=user.email).count() == 11
    assert len(mail.outbox) == 1  # one email an hour, not one per failure
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "/unlock-account?token=" in message.body
    assert AuditEvent.objects.filter(action="auth.lockout", subject_user_id=user.pk).exists()

    # The owner, on a new browser, is slowed...
    assert_envelope(sign_in(api_client, user.email, STRANGER_C), 429, "too_many_login_failures")
    # ...until they follow the link in it.
    unlocked = api_client.post("/api/v1/auth/unlock", {"token": token_from(message)})
    assert unlocked.status_code == 200, unlocked.content
    device_token = unlocked.json()["device_token"]
    assert not LoginFailure.objects.filter(email=user.email).exists()
    assert AuditEvent.objects.filter(action="auth.unlocked", subject_user_id=user.pk).count() == 1
    # The link works once.
    reused = api_client.post("/api/v1/auth/unlock", {"token": token_from(message)})
    assert "token" in assert_envelope(reused, 400)["fields"]

    # The attack goes on; that browser is now a known device and is not refused.
    with django_capture_on_commit_callbacks(execute=True):
        attack(api_client, user.email, ATTACKER_A, 10)
    assert_envelope(sign_in(api_client, user.email, STRANGER_C), 429, "too_many_login_failures")
    assert sign_in(api_client, user.email, STRANGER_C, device_token).status_code == 200


def test_unlock_bad_input_and_expiry(
    api_client: APIClient, user: User, frozen: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for payload in ({}, {"token": ""}, {"token": "garbage"}, {"token": "x" * 2000}):
        assert_envelope(api_client.post("/api/v1/auth/unlock", payload), 400)
    with django_capture_on_commit_callbacks(execute=True):
        attack(api_client, user.email, ATTACKER_A, 10)
    token = token_from(mail.outbox[0])
    frozen.shift(timedelta(days=1, seconds=1))
    expired = api_client.post("/api/v1/auth/unlock", {"token": token})
    assert "token" in assert_envelope(expired, 400)["fields"]
    assert not KnownDevice.objects.filter(user=user, token_hash__isnull=False).exists()


def test_unknown_addresses_are_limited_the_same_way_without_an_email(
    api_client: APIClient, frozen: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        statuses = attack(api_client, "ghost@example.com", ATTACKER_A, 11)
    assert statuses == [401] * 10 + [429]
    assert mail.outbox == []
    assert_envelope(
        sign_in(api_client, "ghost@example.com", STRANGER_C), 429, "too_many_login_failures"
    )


def test_strangers_failures_do_not_block_the_signed_in_owners_password_checks(
    api_client: APIClient, user: User, frozen: Any
) -> None:
    access = sign_in(api_client, user.email, OWNER_B).json()["access"]
    attack(api_client, user.email, ATTACKER_A, 10)
    response = bearer(access).post(
        "/api/v1/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "a much longer passphrase 2024"},
        REMOTE_ADDR=OWNER_B,
    )
    assert response.status_code == 204, response.content


def test_a_password_reset_forgets_known_devices_and_networks(
    api_client: APIClient, user: User, frozen: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sign_in(api_client, user.email, OWNER_B)
    assert KnownDevice.objects.filter(user=user).exists()
    assert KnownNetwork.objects.filter(user=user, network="198.51.100.0/24").exists()
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/forgot-password", {"email": user.email})
    reset = api_client.post(
        "/api/v1/auth/reset-password",
        {"token": token_from(mail.outbox[-1]), "password": "a much longer passphrase 2024"},
    )
    assert reset.status_code == 200, reset.content
    assert not KnownDevice.objects.filter(user=user).exists()
    assert not KnownNetwork.objects.filter(user=user).exists()


def test_device_tokens_are_stored_only_as_hashes(api_client: APIClient, user: User) -> None:
    device_token = sign_in(api_client, user.email, OWNER_B).json()["device_token"]
    stored = KnownDevice.objects.get(user=user)
    assert stored.token_hash
    assert device_token not in stored.token_hash
    assert len(device_token) >= 40
