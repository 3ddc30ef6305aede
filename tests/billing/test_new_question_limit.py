"""The ``unlimited_new_questions`` entitlement: with billing on, a plan without it keeps the
daily new questions at the default number (a learner may still choose fewer)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.accounts.models import DEFAULT_DAILY_NEW_LIMIT, Profile, User
from apps.practice.selectors.today import study_settings_of
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def learner(new_limit: int) -> User:
    user = UserFactory()
    Profile.objects.filter(user=user).update(daily_new_limit=new_limit)
    return User.objects.select_related("profile").get(pk=user.pk)


def test_billing_off_the_learners_own_limit_applies() -> None:
    assert study_settings_of(learner(80)).daily_new_limit == 80


@pytest.mark.usefixtures("billing_on")
def test_billing_on_without_the_entitlement_the_default_caps_it() -> None:
    assert study_settings_of(learner(80)).daily_new_limit == DEFAULT_DAILY_NEW_LIMIT
    assert study_settings_of(learner(5)).daily_new_limit == 5  # fewer is the learner's choice


@pytest.mark.usefixtures("billing_on")
def test_staff_and_entitled_learners_keep_their_own_limit(admin_user: Any) -> None:
    Profile.objects.filter(user=admin_user).update(daily_new_limit=80)
    admin = User.objects.select_related("profile").get(pk=admin_user.pk)
    assert study_settings_of(admin).daily_new_limit == 80
