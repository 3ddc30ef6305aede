"""Gunicorn server hooks for metrics in multiprocess mode.

Use with ``gunicorn -c python:apps.core.observability.gunicorn_hooks config.wsgi:application``
(other settings can still be given on the command line). A worker that exits leaves files in
``PROMETHEUS_MULTIPROC_DIR``; its live gauges (requests in progress) must stop counting.
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
