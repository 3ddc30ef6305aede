"""Celery tasks of practice: thin and idempotent, they call services."""

from __future__ import annotations

from celery import shared_task

from apps.practice.services.fitting import fit_scheduler_parameters, learners_to_fit

FIT_TASK = "practice.fit_scheduler_parameters"
FIT_CHUNK = 50


@shared_task(name=FIT_TASK)
def fit_scheduler_parameters_task() -> int:
    """Nightly (Beat, config/celery.py): fans out one ``practice.fit_learners`` task per chunk
    of the learners who may have enough reviews. Returns how many were scheduled."""
    ids = learners_to_fit()
    for start in range(0, len(ids), FIT_CHUNK):
        fit_learners_task.delay(user_ids=ids[start : start + FIT_CHUNK])
    return len(ids)


@shared_task(name="practice.fit_learners")
def fit_learners_task(user_ids: list[int]) -> int:
    """Fits these learners' FSRS weights where they have enough new reviews; returns how many
    were fitted."""
    return sum(fit_scheduler_parameters(user_id=uid).fitted for uid in user_ids)
