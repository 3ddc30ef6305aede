from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter at the repository root (process-wide state such as
    the Sentry client or prometheus_client's multiprocess mode is fixed at start-up)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SENTRY_"))}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    environment.pop("SLOW_QUERY_MS", None)
    for key, value in env.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
