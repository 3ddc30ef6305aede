"""Platform tasks."""

from __future__ import annotations

from celery import shared_task

from apps.core import queue


@shared_task(name="core.drain_outbox", soft_time_limit=50, time_limit=60)
def drain_outbox() -> dict[str, int]:
    """Every minute (Beat): publishes tasks kept while the broker was unreachable."""
    return queue.drain_outbox()
