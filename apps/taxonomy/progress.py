"""Per-category progress for the category list, supplied by a higher layer through a port.

Taxonomy sits at the bottom of the layers and must not import the learning record
(analytics). Analytics provides the implementation at start-up (``AppConfig.ready``)::

    from apps.taxonomy.progress import progress_provider
    progress_provider.provide(category_progress_for)  # (user, category_ids) -> {id: {...}}

Categories the provider leaves out (not started) report zeros, as do anonymous callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypedDict

from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User
from apps.core.ports import Port


class CategoryProgress(TypedDict):
    answered: int
    correct: int
    score_percent: int


class ProgressProvider(Protocol):
    def __call__(
        self, user: User, category_ids: Sequence[int]
    ) -> Mapping[int, Mapping[str, int]]: ...


progress_provider: Port[ProgressProvider] = Port(
    "taxonomy.progress_provider",
    description="A learner's answered, correct and score per category (analytics).",
)


def empty_progress() -> CategoryProgress:
    return {"answered": 0, "correct": 0, "score_percent": 0}


def progress_for(
    user: User | AnonymousUser, category_ids: Sequence[int]
) -> dict[int, CategoryProgress]:
    """``{category_id: {"answered", "correct", "score_percent"}}`` for every id asked for;
    categories the provider does not mention (or all of them, for an anonymous caller) get
    zeros."""
    ids = list(category_ids)
    supplied: Mapping[int, Mapping[str, int]] = {}
    if ids and not isinstance(user, AnonymousUser) and user.is_authenticated:
        supplied = progress_provider.get()(user, ids)
    result: dict[int, CategoryProgress] = {}
    for category_id in ids:
        row = supplied.get(category_id) or {}
        result[category_id] = {
            "answered": int(row.get("answered", 0)),
            "correct": int(row.get("correct", 0)),
            "score_percent": int(row.get("score_percent", 0)),
        }
    return result
