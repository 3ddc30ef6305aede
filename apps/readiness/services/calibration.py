"""The nightly calibration: a Rasch fit of every question version from first attempts, then
every learner's ability on the new scale.

Reads the learning record's first attempts (practice and exam alike; repeats never count) up
to the newest fact at the start, in batches of questions; fits (:mod:`apps.readiness.irt`);
writes a :class:`CalibrationRun` with its :class:`ItemParameter` rows and rebuilds every
:class:`LearnerAbility` in batches. Facts answered while it runs are after the run's
``last_fact_id`` and join each learner's ability on their next read, so nothing is lost or
counted twice. Older runs beyond :data:`RUNS_KEPT` are deleted with their parameters.

An item is a question *version*: an edit that changes what is asked starts a new item, whose
first attempts are its own. Facts with no recorded version count towards version 1.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.utils import timezone

from apps.analytics.first_attempts import (
    FirstAttemptColumns,
    FirstAttemptRow,
    answered_question_ids,
    first_attempt_columns,
    first_attempt_rows,
    latest_fact_id,
)
from apps.questions.models import Question
from apps.readiness import irt
from apps.readiness.irt import IntArray
from apps.readiness.models import ABILITY_FIELDS, CalibrationRun, ItemParameter, LearnerAbility

logger = logging.getLogger("apps.readiness.calibration")

CALIBRATE_TASK = "readiness.calibrate"
RUNS_KEPT = 3
QUESTION_BATCH = 2000
WRITE_BATCH = 2000
CHUNK = 200_000  # rows turned into columns at a time
_VERSION_SPAN = 1 << 20  # item key = question id * span + version


@dataclass
class Collected:
    """First attempts as arrays, with the maps back to ids."""

    responses: irt.Responses
    user_ids: list[int]
    items: list[tuple[int, int]]  # (question id, version) per item index
    category_counts: list[dict[str, int]]  # per person
    last_answered_at: list[datetime]  # per person: the time of their newest fact read


def collect(
    rows: Iterable[FirstAttemptRow], *, exclude: Callable[[FirstAttemptRow], bool] | None = None
) -> Collected:
    """Dense indices for learners and items, and the response arrays, from rows. Rows are taken
    in chunks and turned into columns at once, so ten million first attempts cost seconds and a
    few hundred megabytes, not a Python object per cell."""
    users: list[IntArray] = []
    questions: list[IntArray] = []
    versions: list[IntArray] = []
    categories: list[IntArray] = []
    correct: list[npt.NDArray[np.bool_]] = []
    times: list[npt.NDArray[np.float64]] = []
    iterator = iter(rows) if exclude is None else (r for r in rows if not exclude(r))
    while chunk := list(islice(iterator, CHUNK)):
        columns = list(zip(*chunk, strict=True))
        users.append(np.asarray(columns[1], dtype=np.int64))
        questions.append(np.asarray(columns[2], dtype=np.int64))
        versions.append(np.asarray([v or 1 for v in columns[3]], dtype=np.int64))
        categories.append(np.asarray(columns[4], dtype=np.int64))
        correct.append(np.asarray(columns[5], dtype=bool))
        times.append(np.asarray([t.timestamp() for t in columns[6]], dtype=np.float64))
    return collect_columns(
        FirstAttemptColumns(
            user_id=_joined(users, np.int64),
            question_id=_joined(questions, np.int64),
            version=_joined(versions, np.int64),
            category_id=_joined(categories, np.int64),
            is_correct=_joined(correct, bool),
            answered_at=_joined(times, np.float64),
        )
    )


def _joined(parts: Sequence[npt.NDArray[Any]], dtype: Any) -> npt.NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def collect_columns(columns: FirstAttemptColumns) -> Collected:
    """Dense indices for learners and items, and the response arrays, from columns."""
    user, question, version = columns.user_id, columns.question_id, columns.version
    user_ids, person = np.unique(user, return_inverse=True)
    item_keys, item = np.unique(question * _VERSION_SPAN + version, return_inverse=True)
    latest = np.full(len(user_ids), -np.inf)
    np.maximum.at(latest, person, columns.answered_at)
    category_counts: list[dict[str, int]] = [{} for _ in user_ids]
    pairs, pair_counts = np.unique(
        np.stack([person, columns.category_id]), axis=1, return_counts=True
    )
    for (p, c), n in zip(pairs.T.tolist(), pair_counts.tolist(), strict=True):
        category_counts[p][str(c)] = n
    responses = irt.Responses(
        person=person.astype(np.int64),
        item=item.astype(np.int64),
        correct=columns.is_correct.astype(bool),
        n_persons=len(user_ids),
        n_items=len(item_keys),
    )
    return Collected(
        responses=responses,
        user_ids=[int(u) for u in user_ids],
        items=[(int(k) // _VERSION_SPAN, int(k) % _VERSION_SPAN) for k in item_keys],
        category_counts=category_counts,
        last_answered_at=[datetime.fromtimestamp(t, tz=UTC) for t in latest.tolist()],
    )


def all_first_attempt_columns(*, up_to_fact_id: int) -> FirstAttemptColumns:
    """Every first attempt up to the fact as columns, question batch by question batch."""
    question_ids = answered_question_ids()
    parts = [
        first_attempt_columns(
            question_ids=question_ids[start : start + QUESTION_BATCH], up_to_fact_id=up_to_fact_id
        )
        for start in range(0, len(question_ids), QUESTION_BATCH)
    ]
    return FirstAttemptColumns(
        user_id=_joined([p.user_id for p in parts], np.int64),
        question_id=_joined([p.question_id for p in parts], np.int64),
        version=_joined([p.version for p in parts], np.int64),
        category_id=_joined([p.category_id for p in parts], np.int64),
        is_correct=_joined([p.is_correct for p in parts], bool),
        answered_at=_joined([p.answered_at for p in parts], np.float64),
    )


def all_first_attempts(*, up_to_fact_id: int) -> Iterable[FirstAttemptRow]:
    """Every first attempt up to the fact, question batch by question batch."""
    question_ids = answered_question_ids()
    for start in range(0, len(question_ids), QUESTION_BATCH):
        batch = question_ids[start : start + QUESTION_BATCH]
        yield from first_attempt_rows(question_ids=batch, up_to_fact_id=up_to_fact_id)


def calibrate(*, progress: Callable[[str], None] | None = None) -> CalibrationRun:
    """Fits the model and rebuilds every learner's ability. Returns the finished run (or the
    failed one, with its error, after logging it)."""
    say = progress or (lambda message: None)
    started = time.monotonic()
    run = CalibrationRun.objects.create(started_at=timezone.now())
    try:
        up_to = latest_fact_id()
        collected = collect_columns(all_first_attempt_columns(up_to_fact_id=up_to))
        say(
            f"read {len(collected.responses.person)} first attempts of "
            f"{collected.responses.n_persons} learners at {collected.responses.n_items} items"
        )
        fit = irt.fit_rasch(collected.responses)
        say(f"fitted in {fit.iterations} iterations (converged: {fit.converged})")
        _store(run, collected, fit, up_to_fact_id=up_to, progress=say)
    except Exception as error:
        logger.exception("readiness calibration failed")
        CalibrationRun.objects.filter(pk=run.pk).update(
            status=CalibrationRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}"[:2000],
            seconds=time.monotonic() - started,
        )
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    run.seconds = time.monotonic() - started
    run.peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    run.save(update_fields=["seconds", "peak_memory_mb"])
    logger.info(
        "readiness calibration finished",
        extra={
            "run_id": run.pk,
            "items": run.items,
            "learners": run.learners,
            "responses": run.responses,
            "seconds": round(run.seconds, 2),
        },
    )
    return run


def _store(
    run: CalibrationRun,
    collected: Collected,
    fit: irt.RaschFit,
    *,
    up_to_fact_id: int,
    progress: Callable[[str], None],
) -> None:
    """Writes parameters, then abilities, then marks the run finished (readers use only
    finished runs, so a half-written run is never read)."""
    parameters = [
        ItemParameter(
            run=run,
            question_id=question_id,
            version=version,
            difficulty=float(fit.difficulty[index]),
            se=float(fit.difficulty_se[index]),
            n=int(fit.n[index]),
            infit=_finite(fit.infit[index]),
            outfit=_finite(fit.outfit[index]),
        )
        for index, (question_id, version) in enumerate(collected.items)
    ]
    existing = set(_existing_question_ids({question_id for question_id, _ in collected.items}))
    ItemParameter.objects.bulk_create(
        [p for p in parameters if p.question_id in existing], batch_size=WRITE_BATCH
    )
    progress(f"stored {len(parameters)} item parameters")
    rows = [
        LearnerAbility(
            user_id=user_id,
            run=run,
            log_likelihood=[float(v) for v in fit.log_likelihood[index]],
            theta=float(fit.theta[index]),
            se=float(fit.theta_se[index]),
            first_answered=int(sum(collected.category_counts[index].values())),
            first_correct=0,
            category_counts=collected.category_counts[index],
            last_fact_id=up_to_fact_id,
            last_answered_at=collected.last_answered_at[index],
        )
        for index, user_id in enumerate(collected.user_ids)
    ]
    correct = np.bincount(
        collected.responses.person,
        weights=collected.responses.correct.astype(np.float64),
        minlength=collected.responses.n_persons,
    )
    for index, row in enumerate(rows):
        row.first_correct = int(correct[index])
    for start in range(0, len(rows), WRITE_BATCH):
        LearnerAbility.objects.bulk_create(
            rows[start : start + WRITE_BATCH],
            update_conflicts=True,
            unique_fields=["user"],
            update_fields=list(ABILITY_FIELDS),
        )
        progress(f"stored abilities {min(start + WRITE_BATCH, len(rows))}/{len(rows)}")
    b = fit.difficulty
    with transaction.atomic():
        CalibrationRun.objects.filter(pk=run.pk).update(
            status=CalibrationRun.Status.FINISHED,
            finished_at=timezone.now(),
            responses=len(collected.responses.person),
            items=collected.responses.n_items,
            learners=collected.responses.n_persons,
            iterations=fit.iterations,
            converged=fit.converged,
            ability_sd=fit.ability_sd,
            item_mean=float(b.mean()) if len(b) else 0.0,
            item_sd=float(b.std()) if len(b) > 1 else 1.0,
        )
        stale = CalibrationRun.objects.filter(status=CalibrationRun.Status.FINISHED).order_by(
            "-finished_at", "-id"
        )[RUNS_KEPT:]
        CalibrationRun.objects.filter(pk__in=[r.pk for r in stale]).delete()
        CalibrationRun.objects.filter(
            status=CalibrationRun.Status.FAILED, started_at__lt=run.started_at
        ).delete()


def _existing_question_ids(question_ids: Sequence[int] | set[int]) -> list[int]:
    """Questions still in the bank (the learning record outlives deleted questions)."""
    return list(Question.objects.filter(pk__in=list(question_ids)).values_list("pk", flat=True))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
