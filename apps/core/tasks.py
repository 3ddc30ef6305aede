"""Platform tasks."""

from __future__ import annotations

from celery import shared_task

from apps.core import queue


@shared_task(name="core.drain_outbox", soft_time_limit=50, time_limit=60)
def drain_outbox() -> dict[str, int]:
    """Every minute (Beat): publishes tasks kept while the broker was unreachable."""
    return queue.drain_outbox()


@shared_task(name="core.prepare_history_partitions", soft_time_limit=120, time_limit=180)
def prepare_history_partitions() -> dict[str, list[str]]:
    """Every hour (Beat): the answer histories' partitions for this month and the next ones,
    then the session ids moved to this month's base (docs/partitioning.md). Idempotent, a few
    catalog reads when there is nothing to do."""
    from django.db import connection

    from apps.core import partitioning

    return partitioning.prepare_partitions(connection)


@shared_task(name="core.analyze_history_partitions", soft_time_limit=1800, time_limit=2000)
def analyze_history_partitions() -> list[str]:
    """Nightly (Beat): statistics of the partitioned histories as a whole, which autovacuum never
    gathers for a partitioned parent (docs/partitioning.md). Sampled: seconds whatever the size."""
    from django.db import connection

    from apps.core import partitioning

    return partitioning.analyze_histories(connection)
