"""Per-category progress for the category list, supplied by a higher layer.

Taxonomy sits at the bottom of the layers and must not import the learning record
(analytics). Analytics registers a provider at start-up (``AppConfig.ready``)::

    from apps.taxonomy.progress import set_progress_provider
    set_progress_provider(category_progress_for)  # (user, category_ids) -> {id: {...}}

Without a provider every category reports zeros, so the endpoint works before (and without)
analytics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypedDict


class CategoryProgress(TypedDict):
    answered: int
    correct: int
    score_percent: int


ProgressProvider = Callable[[Any, Sequence[int]], dict[int, dict[str, Any]]]

_provider: ProgressProvider | None = None


def set_progress_provider(fn: ProgressProvider | None) -> None:
    """Registers (or, with ``None``, removes) the provider. The last registration wins."""
    global _provider
    _provider = fn


def empty_progress() -> CategoryProgress:
    return {"answered": 0, "correct": 0, "score_percent": 0}


def progress_for(user: Any, category_ids: Sequence[int]) -> dict[int, CategoryProgress]:
    """``{category_id: {"answered", "correct", "score_percent"}}`` for every id asked for;
    categories the provider does not mention (or all of them, with no provider) get zeros."""
    ids = list(category_ids)
    supplied: dict[int, dict[str, Any]] = {}
    if _provider is not None and ids and getattr(user, "is_authenticated", False):
        supplied = _provider(user, ids) or {}
    result: dict[int, CategoryProgress] = {}
    for category_id in ids:
        row = supplied.get(category_id) or {}
        result[category_id] = {
            "answered": int(row.get("answered", 0)),
            "correct": int(row.get("correct", 0)),
            "score_percent": int(row.get("score_percent", 0)),
        }
    return result
