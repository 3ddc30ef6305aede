"""Spaced repetition: which of the candidate's cards are due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from fsrs import Scheduler

from apps.accounts.models import User
from apps.practice.models import ReviewCard, SchedulerParameters
from apps.practice.selectors.today import local_day, study_settings_of
from apps.practice.spaced_repetition import retrievability, scheduler_for
from apps.questions.selectors import published_questions


def due_question_ids(*, user_id: int, now: datetime | None = None) -> list[int]:
    """Questions whose review card is due (``due <= now``), most overdue first (ties by
    question id). Unlike the other pools this order matters: the ``due`` mode keeps it."""
    return list(
        ReviewCard.objects.filter(user_id=user_id, due__lte=now or timezone.now())
        .order_by("due", "question_id")
        .values_list("question_id", flat=True)
    )


class ReviewQueue(TypedDict):
    due_now: int
    due_today: int
    next_due_at: datetime | None


def review_queue(*, user: User, now: datetime | None = None) -> ReviewQueue:
    """How many of the user's cards are due now, how many by the end of the user's day (in
    their profile timezone; the overdue ones included), and when the next card not yet due
    falls due (``None`` when none is scheduled). Only cards of questions a candidate can still
    be asked count, so the numbers agree with what the ``due`` mode draws. One query (the
    profile comes with the authenticated user)."""
    now = now or timezone.now()
    end_of_today = local_day(study_settings_of(user).zone, now).end
    row = ReviewCard.objects.filter(
        user_id=user.pk, question_id__in=published_questions().values("id")
    ).aggregate(
        due_now=Count("id", filter=Q(due__lte=now)),
        due_today=Count("id", filter=Q(due__lt=end_of_today)),
        next_due_at=Min("due", filter=Q(due__gt=now)),
    )
    return {
        "due_now": row["due_now"],
        "due_today": row["due_today"],
        "next_due_at": row["next_due_at"],
    }


@dataclass(frozen=True)
class CardMemory:
    """One card of the candidate: its question's category, its due time and the probability
    that they recall it at the moment asked for (FSRS's retrievability)."""

    question_id: int
    category_id: int
    due: datetime
    retrievability: float


def scheduler_of(user: User) -> Scheduler:
    """The user's FSRS scheduler: their desired retention and fitted weights (the defaults
    without a profile or a fit). One query (the weights; the profile comes with the user)."""
    weights = (
        SchedulerParameters.objects.filter(user_id=user.pk)
        .values_list("parameters", flat=True)
        .first()
    )
    try:
        retention: float | None = user.profile.desired_retention
    except User.profile.RelatedObjectDoesNotExist:
        retention = None
    return scheduler_for(desired_retention=retention, parameters=weights)


def card_memories(*, user: User, now: datetime | None = None) -> list[CardMemory]:
    """Every card of the user whose question a candidate can still be asked, with its
    retrievability at ``now`` by the user's scheduler; by question id. Two queries (the
    weights, the cards) whatever the number of cards."""
    now = now or timezone.now()
    scheduler = scheduler_of(user)
    rows = (
        ReviewCard.objects.filter(
            user_id=user.pk, question_id__in=published_questions().values("id")
        )
        .order_by("question_id")
        .values_list("question_id", "question__category_id", "due", "state")
    )
    return [
        CardMemory(
            question_id=qid,
            category_id=category_id,
            due=due,
            retrievability=retrievability(state=state, at=now, scheduler=scheduler),
        )
        for qid, category_id, due, state in rows
    ]


def cards_of(*, user_id: int, category_id: int | None = None) -> QuerySet[ReviewCard]:
    """The user's cards of questions a candidate can still be asked (in ``category_id`` when
    given), most overdue first, with their question's category."""
    cards = ReviewCard.objects.filter(
        user_id=user_id, question_id__in=published_questions().values("id")
    )
    if category_id is not None:
        cards = cards.filter(question__category_id=category_id)
    return cards.select_related("question__category").order_by("due", "id")
