from __future__ import annotations

from io import StringIO

import pytest

from apps.notifications.models import Notification
from apps.notifications.seed import DEMO_EMAIL, seed_demo
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent() -> None:
    demo = UserFactory(email=DEMO_EMAIL)
    out = StringIO()

    seed_demo(stdout=out)
    seed_demo(stdout=out)

    assert Notification.objects.filter(user=demo).count() == 3
    assert "3 demo notification(s) created" in out.getvalue()
    assert "0 demo notification(s) created" in out.getvalue()


def test_seed_without_the_demo_candidate_does_nothing() -> None:
    seed_demo(stdout=StringIO())
    assert not Notification.objects.exists()
