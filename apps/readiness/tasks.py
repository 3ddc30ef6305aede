"""Celery tasks of readiness: thin and idempotent, they call services."""

from __future__ import annotations

from celery import shared_task

from apps.readiness.services.calibration import CALIBRATE_TASK, calibrate


@shared_task(name=CALIBRATE_TASK)
def calibrate_task() -> dict[str, object]:
    """Refits the model nightly (Beat, config/celery.py). A run writes a new set of parameters
    and rebuilds every ability; a second run the same night writes the same numbers again."""
    run = calibrate()
    return {"run_id": run.pk, "status": run.status, "items": run.items, "learners": run.learners}
