"""Celery Beat that proves it is alive: a heartbeat file touched on every tick.

Beat has no endpoint to probe, and a process that is up can still be stuck (a hung broker
connection, a corrupt schedule file it keeps failing to open). The scheduler below touches
``<schedule file>.heartbeat`` each time its loop wakes, and wakes at least every
:data:`HEARTBEAT_SECONDS`, so the file's age says whether the loop is turning. The health check
of docker-compose.yml and the liveness probe of deploy/kubernetes run::

    python -m apps.core.beat /tmp/celerybeat-schedule.heartbeat --max-age 90

which exits 0 while the file is younger than ``--max-age`` seconds and 1 otherwise (a missing
file included). The check imports nothing of Django, so it costs a fraction of a second.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler

# The loop wakes at least this often (Celery's default is 300 s without an entry due sooner).
HEARTBEAT_SECONDS = 30.0
HEARTBEAT_SUFFIX = ".heartbeat"


def heartbeat_path(schedule_filename: str) -> Path:
    """Where the scheduler keeping ``schedule_filename`` writes its heartbeat."""
    return Path(f"{schedule_filename}{HEARTBEAT_SUFFIX}")


def touch(path: Path) -> None:
    """Sets the file's modification time to now, creating it if needed."""
    path.touch(exist_ok=True)
    os.utime(path, None)


class HeartbeatScheduler(PersistentScheduler):
    """Celery's file-backed scheduler, plus a heartbeat file touched on every tick."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        configured: float = self.max_interval  # type: ignore[has-type]  # set by Celery
        self.max_interval = min(float(configured), HEARTBEAT_SECONDS)
        self.heartbeat = heartbeat_path(str(self.schedule_filename))

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Touches the heartbeat, then runs what is due; returns the seconds to sleep."""
        touch(self.heartbeat)
        return float(super().tick(*args, **kwargs))


def heartbeat_age(path: Path, *, now: float | None = None) -> float | None:
    """Seconds since the heartbeat was last touched, or None if there is none."""
    try:
        modified = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return max(0.0, (time.time() if now is None else now) - modified)


def is_alive(path: Path, *, max_age: float, now: float | None = None) -> bool:
    """Whether the heartbeat at ``path`` is younger than ``max_age`` seconds."""
    age = heartbeat_age(path, now=now)
    return age is not None and age < max_age


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Exit 0 if Celery Beat's heartbeat is fresh.")
    parser.add_argument("path", type=Path, help="the heartbeat file (<schedule file>.heartbeat)")
    parser.add_argument("--max-age", type=float, default=3 * HEARTBEAT_SECONDS)
    options = parser.parse_args(argv)
    if is_alive(options.path, max_age=options.max_age):
        return 0
    age = heartbeat_age(options.path)
    print(
        f"beat heartbeat {options.path}: "
        + ("missing" if age is None else f"{age:.0f}s old (max {options.max_age:.0f}s)"),
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
