"""Beat jobs of the recommendations app (thin; they call services)."""

from __future__ import annotations

from celery import shared_task

from apps.recommendations.services import (
    COMPUTE_TASK,
    compute_recommendations,
    purge_expired_dismissals,
)


@shared_task(name="recommendations.purge_expired_dismissals")
def purge_expired_dismissals_task() -> int:
    """Daily: forget dismissals whose hiding period is over. Idempotent."""
    return purge_expired_dismissals()


@shared_task(name=COMPUTE_TASK)
def compute_recommendations_task() -> dict[str, object]:
    """Nightly: ranks every active learner's topics (resumable, idempotent: an unchanged ranking
    is not rewritten)."""
    run = compute_recommendations()
    return {"run_id": run.pk, "learners": run.learners, "written": run.written}
