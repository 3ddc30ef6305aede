"""Passwords are stored with Argon2id (ASVS 5.0 11.4.2); older PBKDF2 hashes still verify and are
rehashed with Argon2 at the owner's next successful login.

The test settings swap in a fast hasher, so these tests read the production list from the base
settings module and put it in force themselves.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from rest_framework.test import APIClient

from apps.accounts.models import User
from config.settings import base
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.fixture
def production_hashers(settings: Any) -> None:
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS


def test_the_production_list_starts_with_argon2_and_still_reads_pbkdf2() -> None:
    assert base.PASSWORD_HASHERS[0] == ARGON2
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS


def test_new_passwords_are_argon2id(production_hashers: None) -> None:
    encoded = make_password(DEFAULT_PASSWORD)
    assert encoded.startswith("argon2$argon2id$")
    assert identify_hasher(encoded).algorithm == "argon2"


def test_a_pbkdf2_hash_is_upgraded_to_argon2_at_the_next_successful_login(
    production_hashers: None,
) -> None:
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(
        password=make_password(DEFAULT_PASSWORD, hasher="pbkdf2_sha256")
    )
    client = APIClient()
    wrong = client.post("/api/v1/auth/login", {"email": user.email, "password": "not it at all"})
    assert wrong.status_code == 401
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")  # a failed login changes nothing

    right = {"email": user.email, "password": DEFAULT_PASSWORD}
    response = client.post("/api/v1/auth/login", right)
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(DEFAULT_PASSWORD)
