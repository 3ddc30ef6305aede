"""Memory: how much of what the candidate has studied they can recall now, per category.

Each practised question has an FSRS card (apps/practice); its retrievability is the
probability of recalling it at a given moment by FSRS's forgetting curve, with the candidate's
own fitted weights when they have them. Only questions a candidate can still be asked count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.practice.models import ReviewCard
from apps.practice.selectors import CardMemory, card_memories, cards_of, scheduler_of
from apps.practice.spaced_repetition import retrievability
from apps.study.exceptions import UnknownCategory
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


@dataclass(frozen=True)
class CardRecall:
    question_id: int
    category_slug: str
    retrievability: float
    due: datetime
    last_review_at: datetime | None
    reps: int
    lapses: int


def memory_cards(*, user_id: int, category_slug: str | None = None) -> QuerySet[ReviewCard]:
    """The user's cards (of questions a candidate can still be asked), most overdue first, in
    the active category ``category_slug`` when given (:class:`UnknownCategory` when there is
    none of that slug): a queryset to paginate, then :func:`recall_of` for the page."""
    category_id = None
    if category_slug is not None:
        category_id = (
            Category.objects.filter(slug=category_slug, is_active=True)
            .values_list("id", flat=True)
            .first()
        )
        if category_id is None:
            raise UnknownCategory(fields={"category": [f"Unknown category: {category_slug}."]})
    return cards_of(user_id=user_id, category_id=category_id)


def recall_of(
    *, user: User, cards: Iterable[ReviewCard], now: datetime | None = None
) -> list[CardRecall]:
    """Each card's retrievability at ``now`` by the user's scheduler (one query: their
    weights)."""
    now = now or timezone.now()
    scheduler = scheduler_of(user)
    return [
        CardRecall(
            question_id=card.question_id,
            category_slug=card.question.category.slug,
            retrievability=round(retrievability(state=card.state, at=now, scheduler=scheduler), 3),
            due=card.due,
            last_review_at=card.last_review_at,
            reps=card.reps,
            lapses=card.lapses,
        )
        for card in cards
    ]
