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
* Exam answers are not reviews: exams are assessments, and do not feed the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from fsrs import Card, Rating, Scheduler, State
from fsrs.card import CardDict

STEP = timedelta(minutes=10)

SCHEDULER = Scheduler(learning_steps=(STEP,), relearning_steps=(STEP,), enable_fuzzing=True)


@dataclass(frozen=True)
class Review:
    """A card after one review: the state to store and the columns kept beside it."""

    state: dict[str, Any]
    due: datetime
    last_review_at: datetime
    lapsed: bool


def rating_for(*, is_correct: bool) -> Rating:
    return Rating.Good if is_correct else Rating.Again


def review(*, state: dict[str, Any] | None, card_id: int, is_correct: bool, at: datetime) -> Review:
    """Reviews the card stored as ``state`` (``None``: a new card, identified by ``card_id``) at
    ``at``. ``lapsed`` is true when a learned card (FSRS's Review state) was answered wrongly."""
    at = at.astimezone(UTC)  # the scheduler takes UTC only
    card = Card.from_dict(cast(CardDict, state)) if state else Card(card_id=card_id, due=at)
    lapsed = card.state == State.Review and not is_correct
    reviewed, _log = SCHEDULER.review_card(
        card, rating_for(is_correct=is_correct), review_datetime=at
    )
    return Review(
        state=dict(reviewed.to_dict()),
        due=reviewed.due,
        last_review_at=at,
        lapsed=lapsed,
    )
