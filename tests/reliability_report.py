"""Reliability figures gathered while the suite runs, printed as one line at its end.

Any test reports a figure with :func:`record` (a count that adds up across the run) or wraps one
injected fault / one concurrency proof in :func:`trial`, which counts it as run and, if the block
finishes without an exception, as passed::

    from tests.reliability_report import record, trial

    record("requests_fuzzed", 120)
    record("server_errors", 0)       # recording 0 still shows the figure as measured

    with trial("faults"):            # faults_run += 1; faults_passed += 1 unless it raises
        stop_redis()
        assert client.get("/api/v1/me").status_code == 200

Each xdist worker keeps its own counts and hands them to the controller through
``workeroutput``; the controller (or a run without xdist) adds them up and prints::

    reliability: requests fuzzed N, malformed-request kinds K (M requests), server errors 0,
    answer leaks 0, faults survived X/Y, concurrency checks Z/Z, ASVS controls covered x of y

followed by a ``reliability detail:`` line with every other recorded figure. The line appears
only when some test recorded something (a run of one app's tests prints nothing).

ASVS coverage is read from ``docs/security.md`` (see :func:`asvs_coverage`): each row of a
table whose last column is ``Status`` is a control; ``met``/``covered`` ones count against all
applicable ones (``not applicable`` rows are left out).

Registered for the whole suite from ``tests/conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

WORKEROUTPUT_KEY = "reliability"
SECURITY_DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"

# Figures of this process (a worker, or the only process without xdist).
_COUNTS: Counter[str] = Counter()
# Figures handed over by finished workers (controller only).
_FROM_WORKERS: Counter[str] = Counter()
# Figures named here are shown in the headline; any other recorded name goes to the detail line.
_HEADLINE = {
    "requests_fuzzed",
    "malformed_kinds",
    "malformed_requests",
    "server_errors",
    "answer_leaks",
    "schema_violations",
    "faults_run",
    "faults_passed",
    "concurrency_run",
    "concurrency_passed",
}
# The schema fuzzing's own counters (tests/trust/fuzz_report.py), used only while it does not
# report through record(): its names -> ours.
_TRUST_FUZZ_KEY = "trust_fuzz"
_TRUST_FUZZ_NAMES = {
    "requests": "requests_fuzzed",
    "server_errors": "server_errors",
    "schema_violations": "schema_violations",
    "leaks": "answer_leaks",
}
_COVERED = re.compile(r"^(met|covered)\b")
_NOT_APPLICABLE = re.compile(r"^(not applicable|n/a)\b")


def record(name: str, value: int = 1) -> None:
    """Adds ``value`` to the run-wide figure ``name`` (created at 0 on first use)."""
    if not name or not isinstance(value, int):
        raise ValueError("record(name: str, value: int)")
    _COUNTS[name] += value  # sets the key even for 0: a recorded 0 is shown as measured


@contextmanager
def trial(kind: str) -> Iterator[None]:
    """Counts one ``kind`` check as run and, if the block raises nothing, as passed."""
    record(f"{kind}_run")
    yield
    record(f"{kind}_passed")


def asvs_coverage(path: Path = SECURITY_DOC) -> tuple[int, int] | None:
    """(covered, applicable) from the security document's control tables; None without one.

    A control table is a Markdown table whose last header cell is ``Status``. A row whose
    status starts with ``met`` or ``covered`` is covered; ``not applicable`` (or ``n/a``) rows
    are left out; anything else (``partly: ...``, ``not yet``, ``gap``) is applicable and not
    covered."""
    if not path.exists():
        return None
    covered = applicable = 0
    in_table = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not (line.startswith("|") and line.endswith("|")):
            in_table = False
            continue
        status = _cell(line.strip("|").split("|")[-1])
        if status == "status":
            in_table = True
            continue
        if not in_table or set(status) <= set("-: "):
            continue
        if _NOT_APPLICABLE.match(status):
            continue
        applicable += 1
        covered += bool(_COVERED.match(status))
    return covered, applicable


def _cell(text: str) -> str:
    return text.strip().strip("*_`").strip().lower()


def figures() -> Counter[str]:
    """Everything recorded in this run so far (this process plus finished workers)."""
    totals: Counter[str] = Counter()
    for source in (_FROM_WORKERS, _COUNTS):
        for name, value in source.items():
            totals[name] += value
    if "requests_fuzzed" not in totals:
        fuzz = _trust_fuzz()
        for theirs, ours in _TRUST_FUZZ_NAMES.items():
            if theirs in fuzz:
                totals[ours] += fuzz[theirs]
    return totals


_trust_from_workers: Counter[str] = Counter()


def _trust_fuzz() -> Counter[str]:
    """The schema fuzzing's counts, from workers and from this process."""
    found = Counter(_trust_from_workers)
    module = sys.modules.get("tests.trust.fuzz_report")
    local = getattr(module, "FUZZ_STATS", None)
    if local:
        found.update(local)
    return found


def summary_lines(totals: Counter[str], asvs: tuple[int, int] | None) -> list[str]:
    def figure(name: str, label: str) -> str:
        return f"{label} {totals[name]}" if name in totals else f"{label} n/a"

    parts = [figure("requests_fuzzed", "requests fuzzed")]
    if "malformed_kinds" in totals:
        # Kinds of malformed request (too deep, too big, too many fields, wrong content type,
        # ...), each sent to every operation that takes a body; their 500s count below.
        parts.append(
            f"malformed-request kinds {totals['malformed_kinds']} "
            f"({totals['malformed_requests']} requests)"
        )
    parts += [
        figure("server_errors", "server errors"),
        figure("answer_leaks", "answer leaks"),
    ]
    if "schema_violations" in totals:
        parts.append(figure("schema_violations", "schema violations"))
    for kind, label in (("faults", "faults survived"), ("concurrency", "concurrency checks")):
        if f"{kind}_run" in totals:
            parts.append(f"{label} {totals[f'{kind}_passed']}/{totals[f'{kind}_run']}")
        else:
            parts.append(f"{label} n/a")
    parts.append(f"ASVS controls covered {asvs[0]} of {asvs[1]}" if asvs else "ASVS controls n/a")
    lines = ["reliability: " + ", ".join(parts)]
    detail = sorted(name for name in totals if name not in _HEADLINE)
    if detail:
        lines.append(
            "reliability detail: " + ", ".join(f"{n.replace('_', ' ')} {totals[n]}" for n in detail)
        )
    return lines


# --- pytest hooks --------------------------------------------------------------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKEROUTPUT_KEY] = dict(_COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", None) or {}
    for name, value in output.get(WORKEROUTPUT_KEY, {}).items():
        _FROM_WORKERS[name] += int(value)
    _trust_from_workers.update(output.get(_TRUST_FUZZ_KEY, {}))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    totals = figures()
    if not totals:
        return
    for line in summary_lines(totals, asvs_coverage()):
        terminalreporter.write_line(line, bold=True)
