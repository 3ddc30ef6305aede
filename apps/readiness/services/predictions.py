"""A learner's readiness: the numbers ``GET /analytics/readiness`` and the dashboard show.

Brings the learner's ability up to date (``services/abilities.py``: a write of one row when they
have answered since), then reads everything else from the compiled model
(``apps/readiness/compiled.py``): per paper the expected percentage on a blueprint-weighted
paper with its central 80% interval and the chance of clearing the paper's minimum; overall the
combined percentage and the chance of passing Part A as the exam decides it (the combined mark at
or above the combined pass mark *and* each paper at or above its minimum). All are averaged over
the learner's posterior, so a learner known only a little gets wide intervals and probabilities
pulled towards what the cohort's spread allows.

Below ``READINESS_MIN_ANSWERS`` first attempts, or with a blueprint category the bank can test
still untouched, or before the first calibration, the answer is ``insufficient_data`` with what
is needed, not a number.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Q

from apps.accounts.models import Profile, User
from apps.billing.entitlements import Entitlement, has_entitlement
from apps.core.db_routing import reading_from_replica
from apps.readiness import irt
from apps.readiness.compiled import CompiledModel, compiled_model
from apps.readiness.models import LearnerAbility
from apps.readiness.services.abilities import current_ability


def _percent(correct: int, answered: int) -> int | None:
    return round(100 * correct / answered) if answered else None


def needed_for(model: CompiledModel, ability: LearnerAbility | None) -> dict[str, Any] | None:
    """What is still missing before a prediction is shown (None: nothing)."""
    counts = (ability.category_counts if ability else {}) or {}
    answered = ability.first_answered if ability else 0
    per_category = settings.READINESS_MIN_PER_CATEGORY
    missing: list[tuple[str, str, int]] = []
    seen: set[int] = set()
    for paper in model.standard.papers:
        for category_id in sorted(paper.blueprint, key=lambda c: -paper.blueprint[c]):
            if category_id in seen or not model.bank_by_category.get(category_id):
                continue
            seen.add(category_id)
            short = per_category - int(counts.get(str(category_id), 0))
            if short > 0:
                missing.append(
                    (paper.category_slugs[category_id], paper.category_names[category_id], short)
                )
    more = max(settings.READINESS_MIN_ANSWERS - answered, sum(s for _, _, s in missing), 0)
    if not more and not missing:
        return None
    return {
        "answers": more,
        "categories": [slug for slug, _, _ in missing],
        "category_names": [name for _, name, _ in missing],
    }


def _message(needed: dict[str, Any]) -> str:
    names = needed["category_names"]
    text = f"Answer {needed['answers']} more question{'s' if needed['answers'] != 1 else ''}"
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        text += f", including {shown}"
    return text + ", to see your readiness."


def _interval(values: tuple[float, float, float]) -> tuple[int, list[int]]:
    mean, low, high = values
    return round(mean), [round(low), round(high)]


@reading_from_replica()  # a cohort-wide count: heavy, and a few seconds' lag changes nothing
def percentile_for(*, user: User, theta: float, sitting: date | None) -> dict[str, Any] | None:
    """The learner's standing on the ability scale among candidates aiming at a sitting in the
    same month who have enough answers for a prediction; None below ``READINESS_MIN_COHORT``."""
    if sitting is None:
        return None
    cohort = LearnerAbility.objects.filter(
        user__profile__exam_sitting__year=sitting.year,
        user__profile__exam_sitting__month=sitting.month,
        first_answered__gte=settings.READINESS_MIN_ANSWERS,
    )
    counts = cohort.aggregate(
        size=Count("pk"),
        below=Count("pk", filter=Q(theta__lt=theta)),
        ties=Count("pk", filter=Q(theta=theta)),
    )
    size, below, ties = counts["size"], counts["below"], counts["ties"]
    if size < settings.READINESS_MIN_COHORT:
        return None
    return {
        "exam_sitting": sitting.isoformat(),
        "cohort_size": size,
        "value": round(100 * (below + 0.5 * ties) / size),
    }


def _sitting_of(user: User) -> date | None:
    try:
        return user.profile.exam_sitting
    except Profile.DoesNotExist:
        return None


def _model_block(model: CompiledModel | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return {
        "kind": "rasch",
        "calibrated_at": model.run.finished_at,
        "items": model.run.items,
    }


def readiness_for(*, user: User) -> dict[str, Any]:
    """The readiness document of ``GET /analytics/readiness`` (shape: docs/api.md)."""
    model = compiled_model()
    base: dict[str, Any] = {
        "ability": None,
        "unseen_only": {"answered": 0, "score_percent": None},
        "papers": [],
        "overall": None,
        "percentile": None,
        "model": _model_block(model),
    }
    if model is None:
        return {
            "status": "insufficient_data",
            "needed": {"answers": settings.READINESS_MIN_ANSWERS, "categories": []},
            "message": "Readiness starts after the question bank's first nightly calibration.",
            **base,
        }
    ability = current_ability(user_id=user.pk, run=model.run)
    base["unseen_only"] = {
        "answered": ability.first_answered,
        "score_percent": _percent(ability.first_correct, ability.first_answered),
    }
    needed = needed_for(model, ability)
    if needed is not None:
        return {
            "status": "insufficient_data",
            "needed": {"answers": needed["answers"], "categories": needed["categories"]},
            "message": _message(needed),
            **base,
        }
    weights = irt.posterior(np.asarray(ability.log_likelihood), model.ability_sd)
    papers = []
    for paper in model.standard.papers:
        predicted, interval = _interval(irt.mixture_interval(weights, model.curves[paper.paper]))
        papers.append(
            {
                "paper": paper.paper,
                "name": paper.name,
                "minimum_percent": paper.minimum_percent,
                "predicted_percent": predicted,
                "interval_80": interval,
                "probability_above_minimum": round(
                    float(weights @ model.above_minimum[paper.paper]), 2
                ),
            }
        )
    predicted, interval = _interval(irt.mixture_interval(weights, model.combined))
    return {
        "status": "ok",
        **base,
        "ability": {"theta": round(ability.theta, 2), "se": round(ability.se, 2)},
        "papers": papers,
        "overall": {
            "combined_pass_mark_percent": model.standard.combined_pass_mark_percent,
            "predicted_percent": predicted,
            "interval_80": interval,
            "pass_probability": round(float(weights @ model.passing), 2),
        },
        "percentile": percentile_for(user=user, theta=ability.theta, sitting=_sitting_of(user)),
    }


def _summary(status: str, probability: float | None) -> dict[str, Any]:
    # "pass" here is passing the exam: a probability, not a password (bandit B105 reads the key).
    return {"status": status, "pass_probability": probability}  # nosec B105


def readiness_summary(*, user: User) -> dict[str, Any]:
    """The dashboard's block: ``{"status", "pass_probability"}`` (null unless ``ok``; status
    ``not_entitled`` when billing is on and the learner's plan has no readiness)."""
    if not has_entitlement(user, Entitlement.READINESS):
        return _summary("not_entitled", None)
    model = compiled_model()
    if model is None:
        return _summary("insufficient_data", None)
    ability = current_ability(user_id=user.pk, run=model.run)
    if needed_for(model, ability) is not None:
        return _summary("insufficient_data", None)
    weights = irt.posterior(np.asarray(ability.log_likelihood), model.ability_sd)
    return _summary("ok", round(float(weights @ model.passing), 2))


def expected_category_scores(*, user: User) -> dict[int, float]:
    """Category -> the learner's expected proportion right on its unseen questions under the
    model (posterior over ability times the category's curve). Empty before the first
    calibration; categories with no calibrated questions are left out."""
    model = compiled_model()
    if model is None:
        return {}
    ability = current_ability(user_id=user.pk, run=model.run)
    weights = irt.posterior(np.asarray(ability.log_likelihood), model.ability_sd)
    return {c: float(weights @ curve) for c, curve in model.category_curves.items()}
