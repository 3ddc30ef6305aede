"""Liveness and readiness probes.

The individual checks come from django-health-check (``Database``: ``SELECT 1``; ``Cache``: set
and read back a key) plus a small broker check of our own (the library's Celery check pings
*workers*; readiness only needs the broker to accept connections). The library's own view is
not used: its status rule (500 on any failure) and output differ from ours, where only the
database is critical.

Checks run concurrently in a private thread pool with a short budget each
(``HEALTH_CHECK_TIMEOUT``); a hung check cannot hold the probe past that budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import kombu
from django.conf import settings
from health_check.base import HealthCheck, HealthCheckResult
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable


@dataclasses.dataclass
class Broker(HealthCheck):
    """Opens (and closes) a connection to the Celery broker. No worker is needed."""

    def run(self) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return  # tasks run in-process; no broker is used
        budget = _budget().total_seconds()
        try:
            with kombu.Connection(
                settings.CELERY_BROKER_URL,
                connect_timeout=budget,
                transport_options={"socket_connect_timeout": budget},
            ) as connection:
                connection.ensure_connection(
                    max_retries=1, interval_start=0, interval_step=0, timeout=budget
                )
        except Exception as exc:
            raise ServiceUnavailable("Broker unreachable") from exc


def _budget() -> timedelta:
    return timedelta(seconds=settings.HEALTH_CHECK_TIMEOUT)


def _database() -> HealthCheck:
    check = Database()
    check.timeout = _budget()
    return check


def _cache() -> HealthCheck:
    return Cache(timeout=_budget())


def _broker() -> HealthCheck:
    check = Broker()
    check.timeout = _budget()
    return check


# name -> (factory, critical). Only a critical check failing makes the service unready.
CHECKS: dict[str, tuple[Callable[[], HealthCheck], bool]] = {
    "database": (_database, True),
    "cache": (_cache, False),
    "broker": (_broker, False),
}


async def _gather(
    checks: dict[str, HealthCheck], executor: ThreadPoolExecutor
) -> list[HealthCheckResult]:
    return list(await asyncio.gather(*(check.get_result(executor) for check in checks.values())))


def readiness() -> tuple[str, dict[str, dict[str, Any]]]:
    """Runs every check; returns the overall status (``ok``, ``degraded`` or ``unavailable``)
    and a report per check."""
    checks = {name: factory() for name, (factory, _) in CHECKS.items()}
    executor = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="health")
    try:
        results = asyncio.run(_gather(checks, executor))
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    report: dict[str, dict[str, Any]] = {}
    critical_failed = degraded = False
    for (name, (_, critical)), result in zip(CHECKS.items(), results, strict=True):
        entry: dict[str, Any] = {
            "status": "ok" if result.error is None else "unavailable",
            "critical": critical,
            "duration_ms": round(result.time_taken * 1000, 1),
        }
        if result.error is not None:
            entry["error"] = str(result.error)
            critical_failed = critical_failed or critical
            degraded = True
        report[name] = entry
    status = "unavailable" if critical_failed else "degraded" if degraded else "ok"
    return status, report
