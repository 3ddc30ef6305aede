"""A learner's ability, brought up to date cheaply between nightly runs.

The stored log-likelihood is a sum over first attempts, so an answer adds one term: a read
takes the learner's facts newer than the row (one indexed query, its size the new facts, not the
history), keeps the first attempts among them, adds their terms with the run's difficulties and
saves. A learner the run has not seen (new since last night), or a row from an older run, is
built from all their first attempts once. The row is locked while it is brought up to date, so
two reads at once never add the same answer twice.

A question version the run did not fit (new since last night) counts at the bank's mean
difficulty, or at another fitted version of the same question when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction

from apps.analytics.first_attempts import FirstAttemptRow, learner_first_attempt_rows
from apps.readiness import irt
from apps.readiness.models import ABILITY_FIELDS, CalibrationRun, ItemParameter, LearnerAbility


def difficulties_for(run: CalibrationRun, rows: Sequence[FirstAttemptRow]) -> np.ndarray:
    """Each row's item difficulty in ``run`` (fallbacks as the module says)."""
    question_ids = {row[2] for row in rows}
    fitted: dict[tuple[int, int], float] = {}
    any_version: dict[int, float] = {}
    for question_id, version, difficulty in ItemParameter.objects.filter(
        run=run, question_id__in=list(question_ids)
    ).values_list("question_id", "version", "difficulty"):
        fitted[(question_id, version)] = difficulty
        any_version[question_id] = difficulty
    return np.asarray(
        [fitted.get((row[2], row[3] or 1), any_version.get(row[2], run.item_mean)) for row in rows],
        dtype=np.float64,
    )


def _add(row: LearnerAbility, run: CalibrationRun, attempts: Sequence[FirstAttemptRow]) -> None:
    if row.log_likelihood:
        loglik = np.asarray(row.log_likelihood, dtype=np.float64)
    else:
        loglik = np.zeros_like(irt.GRID)
    if attempts:
        correct = np.asarray([a[5] for a in attempts], dtype=bool)
        terms = irt.response_log_likelihood(correct, difficulties_for(run, attempts))
        loglik = loglik + terms.sum(axis=0)
        counts = dict(row.category_counts or {})
        for attempt in attempts:
            key = str(attempt[4])
            counts[key] = counts.get(key, 0) + 1
        row.category_counts = counts
        row.first_answered += len(attempts)
        row.first_correct += int(correct.sum())
        newest = max(attempts, key=lambda a: a[0])
        row.last_fact_id = max(row.last_fact_id, newest[0])
        latest_time = max(a[6] for a in attempts)
        if row.last_answered_at is None or latest_time > row.last_answered_at:
            row.last_answered_at = latest_time
    theta, se = irt.eap(irt.posterior(loglik, run.ability_sd))
    row.log_likelihood = [float(v) for v in loglik]
    row.theta, row.se = float(theta), float(se)
    row.run = run


@transaction.atomic
def current_ability(*, user_id: int, run: CalibrationRun) -> LearnerAbility:
    """The learner's ability on ``run``'s scale, with every first attempt so far in it."""
    row = LearnerAbility.objects.select_for_update().filter(user_id=user_id).first()
    if row is None or row.run_id != run.pk:
        row = row or LearnerAbility(user_id=user_id)
        row.log_likelihood, row.first_answered, row.first_correct = [], 0, 0
        row.category_counts, row.last_fact_id, row.last_answered_at = {}, 0, None
        _add(row, run, learner_first_attempt_rows(user_id=user_id))
        LearnerAbility.objects.bulk_create(
            [row],
            update_conflicts=True,
            unique_fields=["user"],
            update_fields=list(ABILITY_FIELDS),
        )
        return row
    since = None
    if row.last_answered_at is not None:
        since = row.last_answered_at - timedelta(hours=settings.READINESS_LATE_FACT_HOURS)
    attempts = learner_first_attempt_rows(
        user_id=user_id, after_fact_id=row.last_fact_id, after_answered_at=since
    )
    if attempts:
        _add(row, run, attempts)
        row.save()
    return row
