"""The model a prediction reads, compiled once per process per calibration run.

Everything that does not depend on the learner is computed here, once: the bank's calibrated
single-best-answer questions per category, each paper's score curve over the ability grid (its
blueprint drawn from that bank), each paper's chance of clearing its minimum and the chance of
passing Part A at every grid node. A learner's prediction is then their posterior on the grid
(61 numbers) times these curves: no query and a few microseconds, however large the bank.

The compiled model is kept for ``READINESS_MODEL_TTL_SECONDS`` (a new run or an examiner's new
pass mark shows within that time) and rebuilt from four small queries and one read of the run's
parameters.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from apps.exams.selectors.standards import PartAStandard, part_a_standard
from apps.questions.models import Question, QuestionType
from apps.readiness import irt
from apps.readiness.models import CalibrationRun, ItemParameter
from apps.readiness.selectors import latest_run


@dataclass(frozen=True)
class CompiledModel:
    run: CalibrationRun
    standard: PartAStandard
    curves: dict[int, irt.PaperCurve]  # paper -> its score curve
    combined: irt.PaperCurve  # both papers together
    above_minimum: dict[int, np.ndarray]  # paper -> P(paper >= its minimum) per node
    passing: np.ndarray  # P(pass Part A) per node
    bank_by_category: dict[int, int]  # calibrated SBA questions per category
    # category -> mean probability of a right answer on its calibrated questions, per node
    category_curves: dict[int, np.ndarray]

    @property
    def ability_sd(self) -> float:
        return self.run.ability_sd


_lock = threading.Lock()
_cache: dict[str, tuple[float, CompiledModel | None]] = {}


def compiled_model() -> CompiledModel | None:
    """The latest finished run, compiled; None while nothing has been calibrated."""
    now = time.monotonic()
    ttl = settings.READINESS_MODEL_TTL_SECONDS
    cached = _cache.get("model")
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    with _lock:
        cached = _cache.get("model")
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
        model = build_model()
        _cache["model"] = (time.monotonic(), model)
        return model


def forget_compiled_model() -> None:
    """Drops this process's compiled model (a new run, a changed standard, tests)."""
    _cache.clear()


def bank_difficulties(run: CalibrationRun) -> dict[int, list[float]]:
    """Category -> the run's difficulties of the bank's published single-best-answer questions
    (each at its newest fitted version)."""
    rows = (
        ItemParameter.objects.filter(
            run=run,
            question__in=Question.objects.published().filter(type=QuestionType.SINGLE),
        )
        .order_by("question_id", "-version")
        .distinct("question_id")
        .values_list("question__category_id", "difficulty")
    )
    by_category: dict[int, list[float]] = defaultdict(list)
    for category_id, difficulty in rows:
        by_category[category_id].append(difficulty)
    return by_category


def build_model() -> CompiledModel | None:
    run = latest_run()
    if run is None:
        return None
    standard = part_a_standard()
    by_category = bank_difficulties(run)
    curves = {
        paper.paper: irt.paper_curve(paper.blueprint, by_category) for paper in standard.papers
    }
    ordered = [curves[paper.paper] for paper in standard.papers]
    combined = irt.PaperCurve(
        questions=sum(c.questions for c in ordered),
        mean=np.sum([c.mean for c in ordered], axis=0),
        variance=np.sum([c.variance for c in ordered], axis=0),
    )
    above_minimum = {
        paper.paper: irt.probability_at_least(curves[paper.paper], paper.minimum_percent)
        for paper in standard.papers
    }
    passing = irt.pass_probability_curve(
        ordered,
        [paper.minimum_percent for paper in standard.papers],
        standard.combined_pass_mark_percent,
    )
    return CompiledModel(
        run=run,
        standard=standard,
        curves=curves,
        combined=combined,
        above_minimum=above_minimum,
        passing=passing,
        bank_by_category={c: len(b) for c, b in by_category.items()},
        category_curves={
            c: irt.category_curve(difficulties) for c, difficulties in by_category.items()
        },
    )
