"""The reliability report: figures add up across xdist workers, trials count failures, the
ASVS count reads the security document's Status column, and the line says what was measured.

These tests swap the module's counters for fresh ones, so the run's own figures are untouched.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests import reliability_report as report


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    counts: Counter[str] = Counter()
    workers: Counter[str] = Counter()
    trust_workers: Counter[str] = Counter()
    monkeypatch.setattr(report, "_COUNTS", counts)
    monkeypatch.setattr(report, "_FROM_WORKERS", workers)
    monkeypatch.setattr(report, "_trust_from_workers", trust_workers)
    monkeypatch.delitem(sys.modules, "tests.trust.fuzz_report", raising=False)
    return SimpleNamespace(counts=counts, workers=workers)


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_line(self, line: str, **kwargs: Any) -> None:
        self.lines.append(line)


def test_record_adds_up_and_keeps_a_measured_zero(fresh: SimpleNamespace) -> None:
    report.record("server_errors", 0)
    report.record("requests_fuzzed", 5)
    report.record("requests_fuzzed", 7)
    assert report.figures() == {"server_errors": 0, "requests_fuzzed": 12}
    assert "server_errors" in report.figures()
    with pytest.raises(ValueError):
        report.record("", 1)


def test_a_trial_counts_as_passed_only_when_its_block_succeeds(fresh: SimpleNamespace) -> None:
    with report.trial("faults"):
        pass
    with pytest.raises(AssertionError), report.trial("faults"):
        raise AssertionError("the fault was not survived")
    totals = report.figures()
    assert (totals["faults_passed"], totals["faults_run"]) == (1, 2)
    assert "faults survived 1/2" in report.summary_lines(totals, None)[0]


def test_worker_figures_reach_the_controller_and_are_printed(fresh: SimpleNamespace) -> None:
    # A worker: its counts leave through workeroutput at the end of its session.
    report.record("faults_run", 3)
    report.record("faults_passed", 3)
    worker_config = SimpleNamespace(workeroutput={}, workerinput={"workerid": "gw0"})
    report.pytest_sessionfinish(SimpleNamespace(config=worker_config))
    output = dict(worker_config.workeroutput)
    assert output[report.WORKEROUTPUT_KEY] == {"faults_run": 3, "faults_passed": 3}

    # A worker prints nothing itself.
    lines = Lines()
    report.pytest_terminal_summary(lines, worker_config)
    assert lines.lines == []

    # The controller adds up two workers (one also carrying the fuzzing's own counters).
    fresh.counts.clear()
    report.pytest_testnodedown(SimpleNamespace(workeroutput=output), None)
    report.pytest_testnodedown(
        SimpleNamespace(
            workeroutput={
                report.WORKEROUTPUT_KEY: {"faults_run": 1, "concurrency_run": 2},
                "trust_fuzz": {"requests": 40, "server_errors": 0, "leaks": 0},
            }
        ),
        None,
    )
    report.pytest_terminal_summary(lines, SimpleNamespace())
    headline = lines.lines[0]
    assert headline.startswith("reliability: requests fuzzed 40, server errors 0, answer leaks 0")
    assert "faults survived 3/4" in headline
    assert "concurrency checks 0/2" in headline


def test_figures_recorded_by_the_fuzzing_win_over_its_own_counters(
    fresh: SimpleNamespace,
) -> None:
    report.pytest_testnodedown(
        SimpleNamespace(workeroutput={"trust_fuzz": {"requests": 40, "leaks": 0}}), None
    )
    report.record("requests_fuzzed", 40)
    report.record("answer_leaks", 0)
    assert report.figures()["requests_fuzzed"] == 40  # not 80


def test_nothing_recorded_prints_nothing(fresh: SimpleNamespace) -> None:
    lines = Lines()
    report.pytest_terminal_summary(lines, SimpleNamespace())
    assert lines.lines == []


def test_unmeasured_figures_say_so_and_others_go_to_the_detail_line() -> None:
    lines = report.summary_lines(
        Counter({"faults_run": 2, "faults_passed": 2, "exam_scorings": 1}), (3, 4)
    )
    assert lines == [
        "reliability: requests fuzzed n/a, server errors n/a, answer leaks n/a, "
        "faults survived 2/2, concurrency checks n/a, ASVS controls covered 3 of 4",
        "reliability detail: exam scorings 1",
    ]


SECURITY_DOC = """# Security

Some prose | with a pipe.

| ASVS 5.0 | Requirement | How | Proof | Status |
| --- | --- | --- | --- | --- |
| 2.2.1 | Validate input | serializers | fuzz | met |
| 2.3.4 | No double booking | locks | races | **met (by absence)** |
| 3.4.3 | CSP | not set | none | not yet |
| 3.4.6 | frame-ancestors | XFO only | header test | partly: add CSP |
| 5.1.1 | File upload | no uploads | - | not applicable |
| 6.1.1 | Gaps are counted | - | - | `gap` |

| Setting | Value |
| --- | --- |
| HSTS | met |
"""


def test_asvs_coverage_counts_the_status_column(tmp_path: Path) -> None:
    doc = tmp_path / "security.md"
    doc.write_text(SECURITY_DOC, encoding="utf-8")
    # 2 met out of 5 applicable; "not applicable" is left out; other tables are ignored.
    assert report.asvs_coverage(doc) == (2, 5)
    assert report.asvs_coverage(tmp_path / "missing.md") is None
