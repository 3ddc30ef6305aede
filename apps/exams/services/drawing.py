"""How a mock's questions are chosen from the bank, per category of its plan:

1. **Unseen first, no repeats across mocks.** Questions the candidate has never met come first,
   then those met only in practice, then those shown in an earlier mock, least recently seen
   first. Only the last group reached has any choice in it: every better question is taken, so
   a question of an earlier mock comes back only once its category has nothing fresher.
2. **The bank's spread.** The choice within that group is a systematic sample over the group
   ordered by subcategory, then difficulty: one question from each of ``n`` equal stretches of
   the order, at the same random offset. Each subcategory therefore gets its proportional share
   (rounded down or up) and, inside it, the picks are spread evenly from easy to hard, so every
   difficulty tercile of the bank gets its share too.

Difficulty is the calibrated estimate (:func:`apps.questions.difficulty.difficulty_of`) where
readiness has one, else the facility of the question's answers once there are enough of them,
else the editor's 1-5 rating; all three are on the logit scale (0 is average, higher is harder).

Everything random comes from one ``random.Random(seed)``, consumed in a fixed order, so a
session's stored seed with the same bank and history reproduces its paper.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from datetime import datetime

from apps.exams.exceptions import TemplateUnfillable
from apps.exams.selectors.drawing import DrawCandidate, DrawPlan

# Below this many answers a question's facility says little about its difficulty.
MIN_ANSWERS_FOR_FACILITY = 20


def difficulty_score(candidate: DrawCandidate, calibrated: Mapping[int, float]) -> float:
    """The question's difficulty on the logit scale (see the module docstring)."""
    if candidate.id in calibrated:
        return float(calibrated[candidate.id])
    if candidate.times_answered >= MIN_ANSWERS_FOR_FACILITY:
        # Smoothed so that a question everybody got right (or wrong) stays finite.
        facility = (candidate.times_correct + 0.5) / (candidate.times_answered + 1)
        return math.log((1 - facility) / facility)
    return float(candidate.authored_difficulty - 3)


def draw_questions(
    *,
    plan: DrawPlan,
    candidates: Sequence[DrawCandidate],
    rng: random.Random,
    shown: Mapping[int, datetime],
    answered: Mapping[int, datetime],
    calibrated: Mapping[int, float],
    template_name: str,
) -> list[int]:
    """The plan's questions, category by category (in the plan's order; not shuffled).

    ``shown``: when an earlier mock of the candidate last showed each question; ``answered``:
    when the candidate last answered it (practice or exam); ``calibrated``: difficulty estimates
    where known. Raises ``TemplateUnfillable`` when a category has too few candidates."""
    by_category: dict[int, list[DrawCandidate]] = {}
    for candidate in candidates:
        by_category.setdefault(candidate.category_id, []).append(candidate)
    picked: list[int] = []
    for category_id, count in plan.counts.items():
        pool = by_category.get(category_id, [])
        if len(pool) < count:
            kind = "single best answer questions" if plan.single_best_answer_only else "questions"
            name = plan.category_names.get(category_id, f"category {category_id}")
            raise TemplateUnfillable(
                f"{template_name} cannot be started: the question bank has {len(pool)} of the "
                f"{count} {kind} needed from {name}."
            )
        picked.extend(
            draw_category(
                pool, count, rng=rng, shown=shown, answered=answered, calibrated=calibrated
            )
        )
    return picked


def _freshness(
    candidate: DrawCandidate, shown: Mapping[int, datetime], answered: Mapping[int, datetime]
) -> tuple[int, float]:
    """Lower is drawn first: never met; met in practice only; shown in a mock, by when it was
    last seen (a mock or an answer, whichever is later)."""
    if candidate.id in shown:
        seen = shown[candidate.id]
        if candidate.id in answered:
            seen = max(seen, answered[candidate.id])
        return (2, seen.timestamp())
    if candidate.id in answered:
        return (1, 0.0)
    return (0, 0.0)


def draw_category(
    pool: Sequence[DrawCandidate],
    count: int,
    *,
    rng: random.Random,
    shown: Mapping[int, datetime],
    answered: Mapping[int, datetime],
    calibrated: Mapping[int, float],
) -> list[int]:
    """``count`` questions of one category's ``pool`` (at least ``count`` long, in id order):
    every question fresher than the last group needed, then a systematic sample of that group
    ordered by subcategory and difficulty (see the module docstring)."""
    # One random number per candidate, in id order, breaks ties in the order below, so papers
    # differ between seeds even where every difficulty is the editor's 1-5 rating.
    tiebreak = {candidate.id: rng.random() for candidate in pool}
    offset = rng.random()
    if count <= 0:
        return []
    freshness = {c.id: _freshness(c, shown, answered) for c in pool}
    threshold = sorted(freshness.values())[count - 1]
    taken = [c.id for c in pool if freshness[c.id] < threshold]
    group = sorted(
        (c for c in pool if freshness[c.id] == threshold),
        key=lambda c: (
            c.subcategory_id is not None,
            c.subcategory_id or 0,
            difficulty_score(c, calibrated),
            tiebreak[c.id],
        ),
    )
    wanted = count - len(taken)
    size = len(group)
    # One pick in each of ``wanted`` equal stretches of the order, at the same offset in each:
    # the positions are distinct because each stretch is at least one question long.
    taken.extend(group[int((i + offset) * size / wanted)].id for i in range(wanted))
    return taken
