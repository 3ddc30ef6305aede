"""Beat jobs of the recommendations app (thin; they call services)."""

from __future__ import annotations

from celery import shared_task

from apps.recommendations.services import purge_expired_dismissals


@shared_task(name="recommendations.purge_expired_dismissals")
def purge_expired_dismissals_task() -> int:
    """Daily: forget dismissals whose hiding period is over. Idempotent."""
    return purge_expired_dismissals()
