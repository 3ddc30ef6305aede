from __future__ import annotations

import io
from typing import Any

import pytest

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
