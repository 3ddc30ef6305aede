"""Latency figures: samples, percentiles and the summary each figure reports."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


@dataclass
class Figure:
    name: str
    samples_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def summary(self) -> dict[str, Any]:
        values = sorted(self.samples_ms)
        total = sum(values)
        return {
            "n": len(values),
            "errors": self.errors,
            "p50_ms": round(percentile(values, 50), 3),
            "p95_ms": round(percentile(values, 95), 3),
            "p99_ms": round(percentile(values, 99), 3),
            "mean_ms": round(statistics.fmean(values), 3) if values else None,
            "max_ms": round(values[-1], 3) if values else None,
            # One connection, one request at a time: the rate this path sustains.
            "req_per_s": round(len(values) / (total / 1000), 1) if total else None,
        }


def timed(call: Callable[[], tuple[int, bytes]]) -> tuple[float, int, bytes]:
    started = time.perf_counter_ns()
    status, body = call()
    return (time.perf_counter_ns() - started) / 1e6, status, body


def summary_stats(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
    }
