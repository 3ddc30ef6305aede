"""Memory: how much of what the candidate has studied they can recall now, per category.

Each practised question has an FSRS card (apps/practice); its retrievability is the
probability of recalling it at a given moment by FSRS's forgetting curve, with the candidate's
own fitted weights when they have them. Only questions a candidate can still be asked count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from apps.accounts.models import User
from apps.practice.selectors import CardMemory, card_memories
from apps.taxonomy.models import Category


@dataclass(frozen=True)
class CategoryMemory:
    category_id: int
    category_slug: str
    category: str
    cards: int
    mean_retrievability: float
    due_now: int


def _by_category(memories: list[CardMemory]) -> dict[int, list[CardMemory]]:
    grouped: dict[int, list[CardMemory]] = defaultdict(list)
    for memory in memories:
        grouped[memory.category_id].append(memory)
    return grouped


def memory_by_category(*, user: User, now: datetime | None = None) -> list[CategoryMemory]:
    """Per category holding at least one of the user's cards, in syllabus order: the cards, their
    mean retrievability at ``now`` (0 to 1, three decimals) and how many are due by ``now``.
    Three queries whatever the number of cards (the weights, the cards, the categories)."""
    now = now or timezone.now()
    grouped = _by_category(card_memories(user=user, now=now))
    if not grouped:
        return []
    categories = Category.objects.filter(id__in=list(grouped)).only("id", "slug", "name")
    return [
        CategoryMemory(
            category_id=category.pk,
            category_slug=category.slug,
            category=category.name,
            cards=len(grouped[category.pk]),
            mean_retrievability=round(
                sum(m.retrievability for m in grouped[category.pk]) / len(grouped[category.pk]), 3
            ),
            due_now=sum(1 for m in grouped[category.pk] if m.due <= now),
        )
        for category in categories
    ]


def mean_retrievability_by_category(*, user: User, now: datetime | None = None) -> dict[int, float]:
    """``{category_id: mean retrievability at now}`` over the user's cards (0 to 1, unrounded);
    a category without cards is absent. Two queries (the weights, the cards)."""
    grouped = _by_category(card_memories(user=user, now=now or timezone.now()))
    return {
        category_id: sum(m.retrievability for m in cards) / len(cards)
        for category_id, cards in grouped.items()
    }
