from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.taxonomy import progress


@pytest.fixture
def restore_provider() -> Iterator[None]:
    saved = progress._provider
    yield
    progress.set_progress_provider(saved)


class _User:
    is_authenticated = True


@pytest.mark.usefixtures("restore_provider")
def test_zeros_without_provider() -> None:
    progress.set_progress_provider(None)
    assert progress.progress_for(_User(), [1, 2]) == {
        1: {"answered": 0, "correct": 0, "score_percent": 0},
        2: {"answered": 0, "correct": 0, "score_percent": 0},
    }


@pytest.mark.usefixtures("restore_provider")
def test_provider_values_are_used_and_gaps_filled() -> None:
    calls: list[Any] = []

    def provider(user: Any, ids: Any) -> dict[int, dict[str, Any]]:
        calls.append(list(ids))
        return {1: {"answered": 10, "correct": 7, "score_percent": 70, "extra": "ignored"}}

    progress.set_progress_provider(provider)
    got = progress.progress_for(_User(), [1, 2])
    assert got[1] == {"answered": 10, "correct": 7, "score_percent": 70}
    assert got[2] == {"answered": 0, "correct": 0, "score_percent": 0}
    assert calls == [[1, 2]]


@pytest.mark.usefixtures("restore_provider")
def test_anonymous_user_never_reaches_provider() -> None:
    def provider(user: Any, ids: Any) -> dict[int, dict[str, Any]]:
        raise AssertionError("must not be called")

    progress.set_progress_provider(provider)

    class Anonymous:
        is_authenticated = False

    assert progress.progress_for(Anonymous(), [3])[3]["answered"] == 0
