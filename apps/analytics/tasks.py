"""Celery tasks of the learning record: thin and idempotent, they call services."""

from __future__ import annotations

from celery import shared_task

from apps.analytics.services import learner_ids, recompute_aggregates

RECOMPUTE_CHUNK = 200


@shared_task(name="analytics.recompute_aggregates")
def recompute_aggregates_task(user_id: int | None = None) -> int:
    """Nightly drift repair. With ``user_id``, rebuilds that learner now; without, fans out one
    ``analytics.recompute_learners`` task per chunk of learners (each stays well inside the task
    time limit). Returns the number of learners rebuilt or scheduled."""
    if user_id is not None:
        return recompute_aggregates(user_id=user_id).learners
    ids = learner_ids()
    for start in range(0, len(ids), RECOMPUTE_CHUNK):
        recompute_learners_task.delay(user_ids=ids[start : start + RECOMPUTE_CHUNK])
    return len(ids)


@shared_task(name="analytics.recompute_learners")
def recompute_learners_task(user_ids: list[int]) -> int:
    """Rebuilds these learners' aggregates; returns the number of rows repaired."""
    return recompute_aggregates(user_ids=user_ids).changed
