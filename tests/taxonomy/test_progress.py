from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User
from apps.taxonomy import progress


def test_zeros_for_categories_the_provider_leaves_out() -> None:
    user = User(pk=1, email="a@example.org")
    with progress.progress_provider.override(lambda user, ids: {}):
        assert progress.progress_for(user, [1, 2]) == {
            1: {"answered": 0, "correct": 0, "score_percent": 0},
            2: {"answered": 0, "correct": 0, "score_percent": 0},
        }


def test_provider_values_are_used_and_gaps_filled() -> None:
    calls: list[Any] = []

    def provider(user: Any, ids: Any) -> dict[int, dict[str, Any]]:
        calls.append(list(ids))
        return {1: {"answered": 10, "correct": 7, "score_percent": 70, "extra": "ignored"}}

    with progress.progress_provider.override(provider):
        got = progress.progress_for(User(pk=1, email="a@example.org"), [1, 2])
    assert got[1] == {"answered": 10, "correct": 7, "score_percent": 70}
    assert got[2] == {"answered": 0, "correct": 0, "score_percent": 0}
    assert calls == [[1, 2]]


def test_anonymous_user_never_reaches_provider() -> None:
    def provider(user: Any, ids: Any) -> dict[int, dict[str, Any]]:
        raise AssertionError("must not be called")

    with progress.progress_provider.override(provider):
        assert progress.progress_for(AnonymousUser(), [3])[3]["answered"] == 0


@pytest.mark.django_db
def test_analytics_provides_the_progress() -> None:
    from apps.analytics.selectors import category_progress_for

    assert progress.progress_provider.get() is category_progress_for
