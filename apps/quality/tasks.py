"""Celery tasks of item quality: thin and idempotent, they call services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.quality.services.analysis import ANALYSE_TASK, analyse_items
from apps.quality.services.regrade import FINISH_TASK as FINISH_REKEY_TASK
from apps.quality.services.regrade import finish_rekey_run


@shared_task(name=ANALYSE_TASK)
def analyse_items_task(question_ids: list[int] | None = None) -> dict[str, object]:
    """Recomputes item statistics: nightly for every answered question (Beat, config/celery.py),
    on demand for a few (``POST /staff/questions/{id}/stats/refresh``, the admin). Each batch
    replaces its questions' rows, so a retried or overlapping run leaves the same result."""
    return analyse_items(question_ids=question_ids).as_dict()


@shared_task(bind=True, name=FINISH_REKEY_TASK, max_retries=240)
def finish_rekey_run_task(self: Any, run_id: int) -> dict[str, object]:
    """Carries a re-key's regrading on when the request left it running (a large run, or an old
    transaction that outlived the drain); retried every 30 s until the run is done. Safe to run
    twice or beside the request: batches take the run's lock and regrade each answer once."""
    result = finish_rekey_run(run_id=run_id)
    if not result.done:
        raise self.retry(countdown=30)
    return {"run_id": result.run_id, "status": result.status}
