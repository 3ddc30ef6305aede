"""The port through which exams (and practice) read how hard questions are.

Difficulty is estimated above this layer (readiness calibrates a Rasch model from first
attempts), yet the mock draw, which sits below it, must spread difficulty like the blueprint. It
asks through this port; readiness provides the estimates in its ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from apps.core.ports import Port


class DifficultyProvider(Protocol):
    def __call__(self, question_ids: Collection[int]) -> Mapping[int, float]: ...


difficulty_provider: Port[DifficultyProvider] = Port(
    "questions.difficulty",
    description="Difficulty on the logit scale of the questions that have one (readiness).",
)


def difficulty_of(question_ids: Collection[int]) -> dict[int, float]:
    """``{question_id: difficulty}`` on the Rasch logit scale (0 is a question the average
    candidate gets right half the time; higher is harder) for the questions that have an
    estimate: calibrated where there is enough data, else from the facility of first attempts.
    Questions with neither are left out; the caller decides what to do with them."""
    if not question_ids:
        return {}
    return dict(difficulty_provider.get()(question_ids))
