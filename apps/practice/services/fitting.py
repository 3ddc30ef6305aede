"""Fitting a candidate's own FSRS weights from their practice reviews.

The optimizer is ``fsrs-rs-python``, the FSRS authors' Rust optimizer (the one Anki ships) as a
wheel: no deep-learning framework at runtime. It learns from each card's history of reviews:
the rating (right is Good, wrong is Again, as the scheduler rates them, see
:mod:`apps.practice.spaced_repetition`) and the days between reviews, counted in the
candidate's own calendar days. Every practice answer is a review; exam answers are not.

A candidate is fitted once they have at least :data:`MIN_REVIEWS_TO_FIT` reviews made a day or
more after the card's previous one (the reviews that teach the model about forgetting), and
refitted only when they have made :data:`REFIT_AFTER_NEW_REVIEWS` more since the last fit.
When the optimizer fails, or gives weights of the wrong length, the candidate keeps what they
had (the library's defaults without a fit): a fit never breaks scheduling.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils import timezone
from fsrs_rs_python import FSRS, FSRSItem, FSRSReview

from apps.accounts.models import User
from apps.practice.models import PracticeAttempt, SchedulerParameters
from apps.practice.selectors.today import study_settings_of
from apps.practice.spaced_repetition import DEFAULT_PARAMETERS, rating_for

logger = logging.getLogger("apps.practice")

MIN_REVIEWS_TO_FIT = 400
"""Reviews a day or more after the previous one that a fit needs (fewer give weights that
follow noise more than memory; the FSRS authors' advice is a few hundred at least)."""
REFIT_AFTER_NEW_REVIEWS = 100
FIT_CHUNK = 5000


@dataclass(frozen=True)
class FitOutcome:
    user_id: int
    fitted: bool
    review_count: int
    reason: str


def _histories(user_id: int, zone: ZoneInfo) -> Iterator[list[tuple[date, bool]]]:
    """Each card's practice answers by the user, oldest first, as (local day, right)."""
    rows = (
        PracticeAttempt.objects.filter(session__user_id=user_id)
        .order_by("question_id", "answered_at", "id")
        .values_list("question_id", "answered_at", "is_correct")
        .iterator(chunk_size=FIT_CHUNK)
    )
    current: int | None = None
    history: list[tuple[date, bool]] = []
    for question_id, answered_at, is_correct in rows:
        if question_id != current:
            if history:
                yield history
            current, history = question_id, []
        history.append((timezone.localtime(answered_at, zone).date(), is_correct))
    if history:
        yield history


def training_items(histories: Iterable[list[tuple[date, bool]]]) -> list[FSRSItem]:
    """The optimizer's training set: for each review a day or more after the card's previous
    one, the card's reviews up to it (``FSRSItem``). Same-day repeats stay in the history (they
    are what the card went through) but are not items of their own."""
    items: list[FSRSItem] = []
    for history in histories:
        reviews = []
        previous: date | None = None
        for day, right in history:
            delta = 0 if previous is None else (day - previous).days
            reviews.append(FSRSReview(int(rating_for(is_correct=right)), delta))
            if previous is not None and delta > 0:
                items.append(FSRSItem(list(reviews)))
            previous = day
    return items


def fit_scheduler_parameters(*, user_id: int, now: datetime | None = None) -> FitOutcome:
    """Fits the user's FSRS weights from their practice reviews and stores them, when they
    have enough reviews and enough new ones since the last fit (see the module docstring).
    Idempotent: a second run with no new reviews changes nothing."""
    user = User.objects.select_related("profile").filter(pk=user_id).first()
    if user is None:
        return FitOutcome(user_id, False, 0, "no such user")
    zone = study_settings_of(user).zone
    items = training_items(_histories(user_id, zone))
    count = len(items)
    if count < MIN_REVIEWS_TO_FIT:
        return FitOutcome(user_id, False, count, "not enough reviews")
    previous = SchedulerParameters.objects.filter(user_id=user_id).first()
    if previous is not None and count < previous.review_count + REFIT_AFTER_NEW_REVIEWS:
        return FitOutcome(user_id, False, count, "no new reviews to learn from")
    try:
        weights = [float(w) for w in FSRS(list(DEFAULT_PARAMETERS)).compute_parameters(items)]
    except Exception:  # the optimizer's own failure: keep the current weights
        logger.exception("FSRS fit failed for user %s", user_id)
        return FitOutcome(user_id, False, count, "optimizer failed")
    if len(weights) != len(DEFAULT_PARAMETERS):
        return FitOutcome(user_id, False, count, "weights of another FSRS version")
    SchedulerParameters.objects.update_or_create(
        user_id=user_id,
        defaults={
            "parameters": weights,
            "review_count": count,
            "fitted_at": now or timezone.now(),
        },
    )
    return FitOutcome(user_id, True, count, "fitted")


def learners_to_fit() -> list[int]:
    """Users with at least :data:`MIN_REVIEWS_TO_FIT` practice answers (a cheap upper bound of
    who may have enough reviews to fit), by id."""
    return list(
        PracticeAttempt.objects.values("session__user_id")
        .annotate(n=Count("id"))
        .filter(n__gte=MIN_REVIEWS_TO_FIT)
        .order_by("session__user_id")
        .values_list("session__user_id", flat=True)
    )
