"""Registering a taken address tells the caller nothing (ASVS 5.0 6.3.8): the same reply as a
new address, the same hashing work, and the owner is told by email instead.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from rest_framework.test import APIClient

from apps.accounts.models import Profile, User
from apps.audit.models import AuditEvent
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a much longer passphrase 2024"
REGISTER = "/api/v1/auth/register"


def register(capture: Any, email: str, password: str = PASSWORD, **extra: str) -> Any:
    with capture(execute=True):
        return APIClient().post(REGISTER, {"email": email, "password": password, **extra})


def test_a_taken_address_gets_the_same_reply_as_a_new_one(
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner = UserFactory(email="owner@example.com")
    before = User.objects.get(pk=owner.pk)
    new = register(django_capture_on_commit_callbacks, "Someone.New@Example.com")
    taken = register(django_capture_on_commit_callbacks, "Owner@Example.com", display_name="X")

    assert new.status_code == taken.status_code == 201
    assert set(new.json()) == set(taken.json()) == {"id", "email", "detail"}
    assert new.json()["id"] is None  # the contract's key, never the account's id
    assert new.json()["email"] == "someone.new@example.com"
    assert taken.json() == {**new.json(), "email": "owner@example.com"}
    assert new["Content-Type"] == taken["Content-Type"]

    # Nothing about the existing account changed; no second account exists.
    after = User.objects.get(pk=owner.pk)
    assert (after.password, after.is_email_verified, after.is_active) == (
        before.password,
        before.is_email_verified,
        before.is_active,
    )
    assert User.objects.filter(email="owner@example.com").count() == 1
    assert Profile.objects.get(user=owner).display_name != "X"


def test_the_owner_is_emailed_instead_of_a_verification_link(
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner = UserFactory(email="owner@example.com")
    register(django_capture_on_commit_callbacks, "owner@example.com")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    assert "verify-email?token=" not in message.body
    assert "/login" in message.body
    assert "/forgot-password" in message.body
    assert PASSWORD not in message.body
    assert message.alternatives
    assert message.alternatives[0][1] == "text/html"
    event = AuditEvent.objects.get(action="auth.registration_attempt_on_taken_address")
    assert event.subject_user_id == owner.pk
    assert PASSWORD not in str(event.after)


def test_the_owner_is_emailed_at_most_once_an_hour(
    django_capture_on_commit_callbacks: Any,
) -> None:
    UserFactory(email="owner@example.com")
    for _ in range(3):
        response = register(django_capture_on_commit_callbacks, "owner@example.com")
        assert response.status_code == 201
    assert len(mail.outbox) == 1


def test_a_deactivated_owner_is_not_emailed_and_the_reply_is_the_same(
    django_capture_on_commit_callbacks: Any,
) -> None:
    UserFactory(email="gone@example.com", is_active=False)
    response = register(django_capture_on_commit_callbacks, "gone@example.com")
    assert response.status_code == 201
    assert set(response.json()) == {"id", "email", "detail"}
    assert mail.outbox == []
    assert User.objects.filter(email="gone@example.com").count() == 1


def test_a_weak_password_is_refused_alike_for_taken_and_new_addresses(
    django_capture_on_commit_callbacks: Any,
) -> None:
    UserFactory(email="owner@example.com")
    new = register(django_capture_on_commit_callbacks, "fresh@example.com", "short")
    taken = register(django_capture_on_commit_callbacks, "owner@example.com", "short")
    assert new.status_code == taken.status_code == 400
    assert new.json() == taken.json()
    assert mail.outbox == []


def test_a_taken_address_costs_the_same_password_hashing(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reply time must not tell: both paths hash the password once with the current hasher
    (counted, not timed)."""
    UserFactory(email="owner@example.com")
    calls: list[str] = []
    original = MD5PasswordHasher.encode

    def counting(self: MD5PasswordHasher, password: str, salt: str) -> str:
        calls.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    register(django_capture_on_commit_callbacks, "fresh@example.com")
    new_path = calls.count(PASSWORD)
    calls.clear()
    register(django_capture_on_commit_callbacks, "owner@example.com")
    assert new_path == calls.count(PASSWORD) == 1
