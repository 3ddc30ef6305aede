"""Context-specific words refused in passwords (ASVS 5.0 6.2.11): the product's name
(``PASSWORD_CONTEXT_WORDS``) and the user's email local part, however they are spelt."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.passwords import ContextWordsValidator, context_words
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_the_documented_list_is_configured() -> None:
    assert settings.PASSWORD_CONTEXT_WORDS == ["openmrcs", "mrcs"]
    names = {str(validator) for validator in settings.AUTH_PASSWORD_VALIDATORS}
    assert "{'NAME': 'apps.accounts.passwords.ContextWordsValidator'}" in names


@pytest.mark.parametrize(
    "password",
    [
        "my openmrcs passphrase",
        "passing the MRCS this year",
        "0penMRC$ revision sessions",
        "m-r-c-s is a long exam",
        "Open.Mrcs.Study.Plan",
    ],
)
def test_product_words_are_refused(password: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ContextWordsValidator().validate(password)
    assert caught.value.code == "password_context_word"


@pytest.mark.parametrize(
    "password",
    [
        "Jane Doe surgical trainee",  # the whole local part, spaces dropped
        "jane is here for the exam",  # one part of it
        "JANE-DOE surgical revision",
        "j4ned0e was here often",  # substitutions undone
    ],
)
def test_the_email_local_part_is_refused(password: str) -> None:
    user = User(email="jane.doe+exams@hospital.nhs.uk")
    with pytest.raises(ValidationError):
        ContextWordsValidator().validate(password, user)


def test_short_local_parts_and_the_domain_are_not_refused() -> None:
    user = User(email="jo@hospital.nhs.uk")
    assert context_words(user) == ["mrcs", "openmrcs"]
    ContextWordsValidator().validate("jo went to the hospital at night", user)


def test_ordinary_passphrases_pass() -> None:
    user = User(email="jane.doe@hospital.nhs.uk")
    for password in ["tangerine lighthouse orbit", "surgical revision is a marathon"]:
        ContextWordsValidator().validate(password, user)
        validate_password(password, user)


@override_settings(PASSWORD_CONTEXT_WORDS=["anatomy"])
def test_the_list_comes_from_settings() -> None:
    with pytest.raises(ValidationError):
        ContextWordsValidator().validate("gross anatomy is lovely")
    ContextWordsValidator().validate("openmrcs is fine when not listed")


def test_register_refuses_the_product_name_and_creates_nothing() -> None:
    response = APIClient().post(
        "/api/v1/auth/register",
        {"email": "new.trainee@example.com", "password": "my openmrcs passphrase"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "password" in body["fields"]
    assert not User.objects.filter(email="new.trainee@example.com").exists()


def test_register_refuses_the_email_local_part() -> None:
    response = APIClient().post(
        "/api/v1/auth/register",
        {"email": "sebastian@example.com", "password": "Sebastian studies every night"},
        format="json",
    )
    assert response.status_code == 400
    assert "password" in response.json()["fields"]
    assert not User.objects.filter(email="sebastian@example.com").exists()


def test_change_password_refuses_context_words_and_keeps_the_old_one() -> None:
    user = UserFactory(email="sebastian.smith@example.com")
    client = APIClient()
    login = client.post(
        "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    for new in ["smith family passphrase", "my MRCS part A passphrase"]:
        response = client.post(
            "/api/v1/auth/change-password",
            {"current_password": DEFAULT_PASSWORD, "new_password": new},
            format="json",
        )
        assert response.status_code == 400, new
        assert "new_password" in response.json()["fields"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
