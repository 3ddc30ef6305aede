"""Expected marks gained per hour of practice in a category: what ranks recommendations.

Pure arithmetic over numbers the caller reads; the assumptions are settings so they can be
fitted to data later (docs/recommendations.md):

- A category is worth ``marks`` on Part A: its questions on the two papers' blueprints
  (anatomy 75 of 300, imaging 5).
- The learner's **expected score** there, ``score`` (0 to 1): the readiness model's prediction for
  unseen questions of the category, moved towards their own record in it by how much of it
  there is (``shrunk_score``).
- **New questions.** An hour of new questions in the category closes a share
  ``RECOMMENDATION_LEARNING_RATE`` of the gap between the expected score and the ceiling
  ``RECOMMENDATION_SCORE_CEILING``, scaled down when fewer unseen questions are left than an
  hour holds (``RECOMMENDATION_QUESTIONS_PER_HOUR``).
- **Reviews.** Of what the learner has learnt in the category, a share ``1 - retrievability`` is
  forgotten by now; an hour of reviews restores as much of it as an hour of questions reaches.
  Marks at risk are the category's marks times the learnt share of the bank times the expected
  score times what is forgotten.
- The gain is the better of the two uses of the hour, in marks on Part A.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class CategoryInputs:
    marks: int  # questions on Part A (both papers' blueprints)
    score: float  # expected proportion right on unseen questions, 0..1
    unseen_remaining: int  # bank questions never answered
    bank_size: int  # bank questions the learner can be asked
    cards: int  # questions learnt (spaced repetition cards)
    mean_retrievability: float | None  # None without cards


@dataclass(frozen=True)
class Gain:
    new: float
    review: float

    @property
    def best(self) -> float:
        return max(self.new, self.review)


def shrunk_score(*, answered: int, correct: int, model_score: float | None) -> float:
    """The learner's expected score in a category: their own first-attempt accuracy there,
    shrunk towards the model's prediction (or towards a coin flip without one) with the weight of
    ``RECOMMENDATION_PRIOR_ANSWERS`` answers, so ten lucky answers do not read as mastery."""
    prior = 0.5 if model_score is None else model_score
    weight = settings.RECOMMENDATION_PRIOR_ANSWERS
    return (correct + weight * prior) / (answered + weight)


def expected_gain(inputs: CategoryInputs) -> Gain:
    """Marks on Part A gained by an hour of practice in the category (new questions, reviews)."""
    per_hour = settings.RECOMMENDATION_QUESTIONS_PER_HOUR
    ceiling = settings.RECOMMENDATION_SCORE_CEILING
    rate = settings.RECOMMENDATION_LEARNING_RATE
    gap = max(ceiling - inputs.score, 0.0)
    reach = min(1.0, inputs.unseen_remaining / per_hour) if per_hour else 0.0
    new = inputs.marks * gap * rate * reach
    review = 0.0
    if inputs.cards and inputs.mean_retrievability is not None and inputs.bank_size:
        learnt_share = min(1.0, inputs.cards / inputs.bank_size)
        forgotten = 1.0 - inputs.mean_retrievability
        at_risk = inputs.marks * learnt_share * inputs.score * forgotten
        review = at_risk * min(1.0, per_hour / max(inputs.cards * forgotten, 1.0))
    return Gain(new=new, review=review)
