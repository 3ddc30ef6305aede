from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management.base import OutputWrapper

from apps.accounts.models import Profile, Role, User
from apps.accounts.seed import DEFAULT_DEMO_PASSWORD, seed_demo

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_safe_by_default(settings: Any) -> None:
    settings.SEED_PRINT_CREDENTIALS = False
    out = io.StringIO()
    seed_demo(stdout=out)
    seed_demo(stdout=out)
    assert User.objects.count() == 4
    assert Profile.objects.count() == 4
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert not any(u.has_usable_password() for u in User.objects.all())
    assert "password" not in out.getvalue()


def test_seed_in_development_prints_a_working_login(settings: Any) -> None:
    settings.SEED_PRINT_CREDENTIALS = True
    out = io.StringIO()
    seed_demo(stdout=out)
    admin = User.objects.get(email="admin@openmrcs.local")
    assert admin.is_superuser
    assert admin.check_password(DEFAULT_DEMO_PASSWORD)
    assert DEFAULT_DEMO_PASSWORD in out.getvalue()


def test_a_second_run_names_the_accounts_that_existed_and_prints_no_password(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SEED_PRINT_CREDENTIALS = True
    User.objects.create_user(email="editor@openmrcs.local", password="the editor's own")
    first = io.StringIO()
    seed_demo(stdout=OutputWrapper(first))  # as `manage.py seed` passes it: a line per write

    assert first.getvalue().splitlines() == [
        "accounts: 3 demo account(s) created, 1 already existed",
        f"  user      demo@openmrcs.local      created, password: {DEFAULT_DEMO_PASSWORD}",
        "  editor    editor@openmrcs.local    already existed, left as it was",
        f"  examiner  examiner@openmrcs.local  created, password: {DEFAULT_DEMO_PASSWORD}",
        f"  admin     admin@openmrcs.local     created, password: {DEFAULT_DEMO_PASSWORD}",
    ]
    assert User.objects.get(email="editor@openmrcs.local").check_password("the editor's own")

    # Run again with another demo password: nothing is changed, and nothing claims it was set.
    monkeypatch.setenv("SEED_DEMO_PASSWORD", "a different one")
    second = io.StringIO()
    seed_demo(stdout=OutputWrapper(second))

    output = second.getvalue()
    assert output.splitlines()[0] == "accounts: 0 demo account(s) created, 4 already existed"
    assert output.count("already existed, left as it was") == 4
    assert "password" not in output
    assert User.objects.get(email="demo@openmrcs.local").check_password(DEFAULT_DEMO_PASSWORD)
