"""Development aid: every SQL statement slower than ``settings.SLOW_QUERY_MS`` is logged.

The wrapper is installed on each new database connection when the setting is not None (the
local settings default it to 100 ms; elsewhere it is unset and nothing is installed, so
production pays nothing). The log line goes through the JSON logger with the request id, the
duration and the SQL text; parameters are never logged (they may hold personal data).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger("apps.core.slow_queries")
_SQL_MAX_CHARS = 2000


class SlowQueryLogger:
    """A ``connection.execute_wrapper`` that logs statements slower than ``threshold_ms``."""

    def __init__(self, threshold_ms: float):
        self.threshold_ms = threshold_ms

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            if duration_ms >= self.threshold_ms:
                connection = context.get("connection")
                logger.warning(
                    "slow query",
                    extra={
                        "duration_ms": round(duration_ms, 2),
                        "threshold_ms": self.threshold_ms,
                        "sql": str(sql)[:_SQL_MAX_CHARS],
                        "many": many,
                        "db_alias": getattr(connection, "alias", None),
                    },
                )


def install_slow_query_logging(connection: BaseDatabaseWrapper) -> bool:
    """Adds the wrapper to ``connection`` if ``SLOW_QUERY_MS`` is set and it is not there yet."""
    threshold = getattr(settings, "SLOW_QUERY_MS", None)
    if threshold is None:
        return False
    if any(isinstance(wrapper, SlowQueryLogger) for wrapper in connection.execute_wrappers):
        return False
    connection.execute_wrappers.append(SlowQueryLogger(float(threshold)))
    return True


def install_on_new_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Receiver for Django's ``connection_created`` signal."""
    install_slow_query_logging(connection)
