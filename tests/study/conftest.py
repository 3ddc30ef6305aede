"""Study fixtures: practice's small bank (two categories of the Part A blueprint) and helpers
for candidates with study settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apps.accounts.models import Profile, User
from tests.accounts.factories import UserFactory
from tests.practice.conftest import bank  # noqa: F401  # the fixture, shared

# 10:30 UTC on 4 December is 10:30 the same day in London and 23:30 in Auckland (UTC+13);
# 11:30 UTC is 00:30 on 5 December in Auckland, still 4 December in London.
BEFORE_AUCKLAND_MIDNIGHT = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
AFTER_AUCKLAND_MIDNIGHT = datetime(2026, 12, 4, 11, 30, tzinfo=UTC)


def candidate(**profile: Any) -> User:
    """A user whose profile has these study settings, loaded as authentication loads it."""
    user = UserFactory()
    Profile.objects.filter(user=user).update(**profile)
    return User.objects.select_related("profile").get(pk=user.pk)
