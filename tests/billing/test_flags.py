"""``flag_active``: waffle's flags, asked with a request or a user, with per-learner rollouts."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from rest_framework.request import Request
from waffle.models import Flag

from apps.accounts.models import User
from apps.billing.flags import flag_active
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _request(user: Any, query: str = "") -> Request:
    http = RequestFactory().get(f"/api/v1/study/today{query}")
    request = Request(http)
    request.user = user
    return request


def test_an_unknown_flag_is_off_and_not_created(user: User) -> None:
    assert flag_active("new_study_engine", user) is False
    assert flag_active("new_study_engine", _request(user)) is False
    assert not Flag.objects.filter(name="new_study_engine").exists()


def test_everyone_on_and_everyone_off(user: User) -> None:
    Flag.objects.create(name="on", everyone=True)
    Flag.objects.create(name="off", everyone=False, staff=True)
    assert flag_active("on", user)
    assert flag_active("on", AnonymousUser())
    assert flag_active("on", _request(user))
    assert not flag_active("off", user)
    assert not flag_active("off", _request(UserFactory(is_staff=True)))


def test_staff_chosen_users_and_groups(user: User, other_user: User, editor: User) -> None:
    flag = Flag.objects.create(name="beta", staff=True)
    flag.users.add(user)
    assert flag_active("beta", user)
    assert flag_active("beta", _request(user))
    assert flag_active("beta", editor)
    assert not flag_active("beta", other_user)
    assert not flag_active("beta", _request(other_user))
    assert not flag_active("beta", None)


def test_a_percentage_rollout_is_stable_per_learner_and_only_grows() -> None:
    learners = UserFactory.create_batch(200)
    flag = Flag.objects.create(name="rollout", percent=25)
    first = {u.pk for u in learners if flag_active("rollout", u)}
    again = {u.pk for u in learners if flag_active("rollout", _request(u))}
    assert first == again  # the same learners, asked by user or by request
    assert 20 <= len(first) <= 80  # about a quarter of 200

    Flag.objects.filter(pk=flag.pk).update(percent=60)
    flag.flush()  # waffle caches flags; the admin flushes on save
    wider = {u.pk for u in learners if flag_active("rollout", u)}
    assert first < wider
    assert not flag_active("rollout", AnonymousUser())
