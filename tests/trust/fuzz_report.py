"""Counts kept by the schema fuzzing and the one-line summary printed at the end of the run.

Each xdist worker counts its own requests and hands the counts to the controller through
``workeroutput``; the controller (or a run without xdist) prints the sum."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

FUZZ_STATS: Counter[str] = Counter()
_from_workers: Counter[str] = Counter()

KEYS = ("requests", "responses_2xx", "operations", "server_errors", "schema_violations", "leaks")


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["trust_fuzz"] = dict(FUZZ_STATS)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent when run with -p no:xdist
def pytest_testnodedown(node: Any, error: Any) -> None:
    _from_workers.update(getattr(node, "workeroutput", {}).get("trust_fuzz", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    totals = _from_workers + FUZZ_STATS
    if not totals.get("requests"):
        return
    terminalreporter.write_line(
        "fuzz: " + ", ".join(f"{key.replace('_', ' ')} {totals.get(key, 0)}" for key in KEYS),
        bold=True,
    )
