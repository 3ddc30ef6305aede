"""The calibration report: are readiness's numbers right? Predicted against actual on submitted
mocks the fit never saw.

Every ``holdout_every``-th submitted exam session (by id) is held out: its answers are left out
of a fresh fit (the live model is not touched). For each held-out session, the learner's
ability is taken from their first attempts *before* the session (the fit's data only), then:

- every first attempt in the session gets a predicted probability of being right; the Brier
  score of those against what happened, beside the Brier score of always predicting the bank's
  mean facility (a model that knows nothing), and a reliability table by decile of prediction;
- the session's score gets an 80% predictive interval (the same mixture the readiness API uses);
  the share of sessions whose real score fell inside is the interval's coverage (about 80% when
  the model is honest);
- the chance of scoring at or above the combined pass mark against whether the learner did (the
  Brier score of that probability).

Nothing here is asserted: the numbers are computed from data and stored for the admin page and
``manage.py readiness_calibration``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from django.utils import timezone
from scipy.special import expit

from apps.analytics.first_attempts import FirstAttemptRow, latest_fact_id
from apps.exams.selectors.standards import part_a_standard
from apps.readiness import irt
from apps.readiness.models import CalibrationReport
from apps.readiness.services.calibration import all_first_attempts, collect

MIN_SESSION_ANSWERS = 5


def build_calibration_report(
    *, holdout_every: int = 5, progress: Callable[[str], None] | None = None
) -> CalibrationReport:
    say = progress or (lambda message: None)
    up_to = latest_fact_id()

    def held_out(row: FirstAttemptRow) -> bool:
        return row[7] == "exam" and row[8] % holdout_every == 0

    # Two streamed passes over the first attempts, never a list of them all (ten million rows
    # as tuples are gigabytes): the first fits without the held-out mocks and sets their rows
    # aside; the second keeps the fit's own first attempts of those mocks' learners only.
    sessions: dict[int, list[FirstAttemptRow]] = defaultdict(list)

    def set_aside(row: FirstAttemptRow) -> bool:
        if held_out(row):
            sessions[row[8]].append(row)
            return True
        return False

    collected = collect(all_first_attempts(up_to_fact_id=up_to), exclude=set_aside)
    say(f"fitting without held-out mocks: {len(collected.responses.person)} first attempts")
    fit = irt.fit_rasch(collected.responses)
    person_of = {user_id: index for index, user_id in enumerate(collected.user_ids)}
    item_of = {key: index for index, key in enumerate(collected.items)}

    # The fit's own first attempts per learner of a held-out mock, with their times, for
    # "before the session".
    learners = {answers[0][1] for answers in sessions.values()}
    history: dict[int, list[tuple[Any, float, bool]]] = defaultdict(list)
    for row in all_first_attempts(up_to_fact_id=up_to):
        if row[1] in learners and not held_out(row) and (row[2], row[3] or 1) in item_of:
            difficulty = float(fit.difficulty[item_of[(row[2], row[3] or 1)]])
            history[row[1]].append((row[6], difficulty, row[5]))

    standard = part_a_standard()
    pass_mark = standard.combined_pass_mark_percent
    predictions: list[float] = []
    outcomes: list[bool] = []
    covered: list[bool] = []
    pass_predicted: list[float] = []
    pass_actual: list[bool] = []
    for _session_id, answers in sorted(sessions.items()):
        fitted = [a for a in answers if (a[2], a[3] or 1) in item_of]
        if len(fitted) < MIN_SESSION_ANSWERS or answers[0][1] not in person_of:
            continue
        start = min(a[6] for a in answers)
        before = [(b, x) for when, b, x in history[answers[0][1]] if when < start]
        loglik = np.zeros_like(irt.GRID)
        if before:
            loglik = irt.response_log_likelihood(
                [correct for _, correct in before], [difficulty for difficulty, _ in before]
            ).sum(axis=0)
        weights = irt.posterior(loglik, fit.ability_sd)
        difficulties = np.asarray([fit.difficulty[item_of[(a[2], a[3] or 1)]] for a in fitted])
        x = np.asarray([a[5] for a in fitted], dtype=bool)
        p_nodes = expit(irt.GRID[None, :] - difficulties[:, None])  # items x nodes
        predictions.extend((p_nodes @ weights).tolist())
        outcomes.extend(x.tolist())
        curve = irt.PaperCurve(
            questions=len(difficulties),
            mean=p_nodes.sum(axis=0),
            variance=(p_nodes * (1 - p_nodes)).sum(axis=0),
        )
        _, low, high = irt.mixture_interval(weights, curve)
        actual = 100.0 * x.sum() / len(x)
        covered.append(low - 0.5 <= actual <= high + 0.5)
        pass_predicted.append(float(weights @ irt.probability_at_least(curve, pass_mark)))
        pass_actual.append(actual >= pass_mark)

    report = CalibrationReport(created_at=timezone.now(), sessions=len(covered))
    report.answers = len(predictions)
    if predictions:
        p = np.asarray(predictions)
        y = np.asarray(outcomes, dtype=np.float64)
        base_rate = (
            float(collected.responses.correct.mean()) if len(collected.responses.correct) else 0.5
        )
        report.brier = float(np.mean((p - y) ** 2))
        report.brier_baseline = float(np.mean((base_rate - y) ** 2))
        report.deciles = reliability_table(p, y)
        report.interval_coverage = float(np.mean(covered))
        report.pass_brier = float(
            np.mean((np.asarray(pass_predicted) - np.asarray(pass_actual, dtype=float)) ** 2)
        )
    report.detail = {
        "holdout_every": holdout_every,
        "fit_responses": len(collected.responses.person),
        "fit_converged": fit.converged,
        "combined_pass_mark_percent": pass_mark,
        "passed_sessions": int(sum(pass_actual)),
    }
    report.save()
    say(f"report {report.pk}: {report.sessions} held-out sessions, {report.answers} answers")
    return report


def reliability_table(predicted: np.ndarray, observed: np.ndarray) -> list[dict[str, float]]:
    """Ten bins of equal count by predicted probability: each bin's n, mean prediction and
    observed rate (a calibrated model has the two close in every bin)."""
    order = np.argsort(predicted, kind="stable")
    table = []
    for chunk in np.array_split(order, 10):
        if len(chunk) == 0:
            continue
        table.append(
            {
                "n": len(chunk),
                "predicted": round(float(predicted[chunk].mean()), 3),
                "observed": round(float(observed[chunk].mean()), 3),
            }
        )
    return table
