"""Spaced repetition for practice: how one answer moves a candidate's card, by FSRS.

The scheduling itself is the ``fsrs`` package (py-fsrs, by the algorithm's authors); this
module only chooses its settings and turns a practice answer into a review. It is pure (no
database); :func:`apps.practice.services.record_practice_answer` stores the result.

* **Rating.** A right answer is ``Rating.Good`` and a wrong one ``Rating.Again``. Hard and Easy
  are not inferred from ``time_spent_sec``: the time is reported by the client, is often a tab
  left open, and says little about how sure the candidate was.
* **Steps.** One learning and one relearning step of 10 minutes. A question answered right the
  first time graduates at once and comes back in days; a wrong answer brings it back in
  10 minutes, so the next ``due`` session asks it again. (The library's default two learning
  steps would bring back, within minutes, questions the candidate just got right.)
* **Fuzz.** The library's small random spread of review intervals is kept, so that questions
  learned together do not all fall due on the same day.
* **Retention.** Intervals aim at the candidate's own desired retention
  (``Profile.desired_retention``, 0.92 unless they chose otherwise), not the library's 0.9.
* **Parameters.** The candidate's own FSRS weights once they have been fitted from enough of
  their reviews (:mod:`apps.practice.services.fitting`); the library's defaults until then.
* Exam answers are not reviews: exams are assessments, and do not feed the scheduler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from fsrs import Card, Rating, Scheduler, State
from fsrs.card import CardDict
from fsrs.scheduler import DEFAULT_PARAMETERS as FSRS_DEFAULT_PARAMETERS

from apps.accounts.models import DEFAULT_DESIRED_RETENTION

STEP = timedelta(minutes=10)

DEFAULT_PARAMETERS: tuple[float, ...] = tuple(FSRS_DEFAULT_PARAMETERS)
"""The library's FSRS weights, used until a candidate's own are fitted."""


@lru_cache(maxsize=256)
def _scheduler(desired_retention: float, parameters: tuple[float, ...]) -> Scheduler:
    return Scheduler(
        parameters=parameters,
        desired_retention=desired_retention,
        learning_steps=(STEP,),
        relearning_steps=(STEP,),
        enable_fuzzing=True,
    )


def scheduler_for(
    *,
    desired_retention: float | None = None,
    parameters: Sequence[float] | None = None,
) -> Scheduler:
    """The scheduler at ``desired_retention`` (the default retention when ``None``) with the
    given weights (the defaults when ``None``, empty or not of the library's length, so that a
    stored set from another FSRS version never breaks an answer). Schedulers are cached: one
    per retention and weight set."""
    weights = tuple(float(w) for w in parameters or ())
    if len(weights) != len(DEFAULT_PARAMETERS):
        weights = DEFAULT_PARAMETERS
    retention = DEFAULT_DESIRED_RETENTION if desired_retention is None else desired_retention
    return _scheduler(float(retention), weights)


SCHEDULER = scheduler_for()
"""The scheduler of a candidate with the default retention and weights."""


@dataclass(frozen=True)
class Review:
    """A card after one review: the state to store and the columns kept beside it."""

    state: dict[str, Any]
    due: datetime
    last_review_at: datetime
    lapsed: bool


def rating_for(*, is_correct: bool) -> Rating:
    return Rating.Good if is_correct else Rating.Again


def review(
    *,
    state: dict[str, Any] | None,
    card_id: int,
    is_correct: bool,
    at: datetime,
    scheduler: Scheduler | None = None,
) -> Review:
    """Reviews the card stored as ``state`` (``None``: a new card, identified by ``card_id``) at
    ``at`` with ``scheduler`` (the candidate's, see :func:`scheduler_for`; the default one when
    ``None``). ``lapsed`` is true when a learned card (FSRS's Review state) was answered
    wrongly."""
    at = at.astimezone(UTC)  # the scheduler takes UTC only
    card = Card.from_dict(cast(CardDict, state)) if state else Card(card_id=card_id, due=at)
    lapsed = card.state == State.Review and not is_correct
    reviewed, _log = (scheduler or SCHEDULER).review_card(
        card, rating_for(is_correct=is_correct), review_datetime=at
    )
    return Review(
        state=dict(reviewed.to_dict()),
        due=reviewed.due,
        last_review_at=at,
        lapsed=lapsed,
    )


def retrievability(
    *, state: dict[str, Any], at: datetime, scheduler: Scheduler | None = None
) -> float:
    """The probability (0 to 1) that the candidate recalls the card stored as ``state`` at
    ``at``, by FSRS's forgetting curve with ``scheduler``'s weights; 0 for a card never
    reviewed."""
    card = Card.from_dict(cast(CardDict, state))
    return float((scheduler or SCHEDULER).get_card_retrievability(card, at.astimezone(UTC)))
