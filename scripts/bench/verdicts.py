"""The goals, the verdict of each figure against them, and the table printed at the end."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scripts.bench.environment import RESULTS, log

# Goals of issue 8 (figures in milliseconds; ratios to a control's P50).
GOAL_HIT_VS_CACHED = 2.0
GOAL_MISS_VS_BARE = 25.0
GOAL_MISS_P50_MS = 10.0
GOAL_MISS_P95_MS = 30.0
GOAL_FLAT = 1.25
GOAL_ANSWER_VS_BARE = 15.0
GOAL_ANSWER_P50_MS = 10.0
GOAL_SUBMIT_P50_MS = 50.0
GOAL_SUBMIT_P95_MS = 150.0
GOAL_MIXED_RPS = 150.0
GOAL_MIXED_DASHBOARD_P95_MS = 100.0
KNEE_P95_MS = 600.0


@dataclass
class Verdict:
    figure: str
    value: float | None
    unit: str
    ratio: float | None
    ratio_to: str
    goal: str
    passed: bool | None
    cpu_ms: float | None = None  # app + database CPU per request
    cpu_ratio: float | None = None  # to the same control as ``ratio``


def verdicts(
    figures: dict[str, dict[str, Any]],
    mixed: dict[str, Any] | None,
    soak: dict[str, Any] | None,
    other_tier: dict[str, Any] | None,
) -> list[Verdict]:
    nan = float("nan")
    bare = figures.get("control (bare)", {}).get("p50_ms", nan)
    cached = figures.get("control (auth + cached JSON)", {}).get("p50_ms", nan)
    rows: list[Verdict] = []

    def cpu_of(name: str) -> float | None:
        f = figures.get(name, {})
        if "worker_cpu_ms_per_req" not in f:
            return None
        return float(f["worker_cpu_ms_per_req"] + f.get("db_cpu_ms_per_req", 0.0))

    def row(
        name: str,
        key: str,
        goal: str,
        check: Callable[[float, float], bool] | None,
        base: float = bare,
        base_name: str = "bare",
    ) -> None:
        if name not in figures:  # not measured in this run (--only)
            return
        f = figures[name]
        value = f[key]
        ratio = value / base if base == base and base else None
        passed = None if check is None else bool(check(value, ratio or 0) and f["errors"] == 0)
        cpu = cpu_of(name)
        control_cpu = cpu_of(
            "control (bare)" if base_name == "bare" else "control (auth + cached JSON)"
        )
        cpu_ratio = cpu / control_cpu if cpu is not None and control_cpu else None
        rows.append(
            Verdict(
                f"{name} {key[:3].upper()}",
                value,
                "ms",
                ratio,
                base_name,
                goal,
                passed,
                cpu_ms=cpu,
                cpu_ratio=cpu_ratio,
            )
        )

    row("control (bare)", "p50_ms", "(reference)", None)
    row("control (auth + cached JSON)", "p50_ms", "(reference)", None)
    row(
        "dashboard hit (1000 answers)",
        "p50_ms",
        f"<= {GOAL_HIT_VS_CACHED}x cached control",
        lambda v, r: r <= GOAL_HIT_VS_CACHED,
        base=cached,
        base_name="cached",
    )
    miss = "dashboard miss (1000 answers)"
    row(
        miss,
        "p50_ms",
        f"<= {GOAL_MISS_VS_BARE}x bare and <= {GOAL_MISS_P50_MS} ms",
        lambda v, r: r <= GOAL_MISS_VS_BARE and v <= GOAL_MISS_P50_MS,
    )
    row(miss, "p95_ms", f"<= {GOAL_MISS_P95_MS} ms", lambda v, r: v <= GOAL_MISS_P95_MS)
    small = figures.get("dashboard miss (100 answers)")
    big = figures.get("dashboard miss (50000 answers)")
    if small and big and small["p50_ms"]:
        flat = big["p50_ms"] / small["p50_ms"]
        rows.append(
            Verdict(
                "dashboard miss P50, 50k vs 100 answers",
                flat,
                "x",
                None,
                "",
                f"<= {GOAL_FLAT}x",
                flat <= GOAL_FLAT,
            )
        )

        def cpu(f: dict[str, Any]) -> float:
            return float(f.get("worker_cpu_ms_per_req", 0) + f.get("db_cpu_ms_per_req", 0))

        if cpu(small) > 0:
            # The same comparison in CPU per request (app + database), which other load on
            # the machine disturbs far less than latency.
            flat_cpu = cpu(big) / cpu(small)
            rows.append(
                Verdict(
                    "dashboard miss CPU/req, 50k vs 100 answers",
                    flat_cpu,
                    "x",
                    None,
                    "",
                    f"<= {GOAL_FLAT}x",
                    flat_cpu <= GOAL_FLAT,
                )
            )
    row("categories", "p50_ms", "(no goal)", None)
    row(
        "practice answer POST",
        "p50_ms",
        f"<= {GOAL_ANSWER_VS_BARE}x bare and <= {GOAL_ANSWER_P50_MS} ms",
        lambda v, r: r <= GOAL_ANSWER_VS_BARE and v <= GOAL_ANSWER_P50_MS,
    )
    row(
        "exam submit (180 answers)",
        "p50_ms",
        f"<= {GOAL_SUBMIT_P50_MS} ms",
        lambda v, r: v <= GOAL_SUBMIT_P50_MS,
    )
    row(
        "exam submit (180 answers)",
        "p95_ms",
        f"<= {GOAL_SUBMIT_P95_MS} ms",
        lambda v, r: v <= GOAL_SUBMIT_P95_MS,
    )
    if other_tier is not None and miss in figures:
        value = figures[miss]["p50_ms"] / other_tier["p50_ms"]
        rows.append(
            Verdict(
                f"dashboard miss P50, this tier vs tier {other_tier['tier']}",
                value,
                "x",
                None,
                "",
                f"<= {GOAL_FLAT}x",
                value <= GOAL_FLAT,
            )
        )
    if mixed is not None:
        best = None
        for step in mixed["steps"]:
            if (
                step["errors"] == 0
                and step["by_request"]["dashboard"]["p95_ms"] <= GOAL_MIXED_DASHBOARD_P95_MS
            ):
                best = max(best or 0, step["requests_per_s"])
        rows.append(
            Verdict(
                "mixed: req/s, dashboard P95<=100ms, 0 errors",
                best,
                "req/s",
                None,
                "",
                f">= {GOAL_MIXED_RPS:.0f}",
                best is not None and best >= GOAL_MIXED_RPS,
            )
        )
        rows.append(
            Verdict(
                "mixed: knee (P95<=600ms, 0 errors)",
                mixed["knee_requests_per_s"],
                "req/s",
                None,
                "",
                "(reported)",
                None,
            )
        )
    if soak is not None and "errors" in soak:
        rows.append(
            Verdict(
                "soak with reload + Redis stop: failed requests",
                soak["errors"],
                "",
                None,
                "",
                "0",
                soak["errors"] == 0,
            )
        )
    return rows


def print_table(rows: list[Verdict]) -> None:
    header = (
        f"{'figure':<46} {'value':>11} {'ratio':>12} {'cpu/req':>9} {'cpu ratio':>9}  "
        f"{'goal':<34} result"
    )
    log("")
    log(header)
    log("-" * len(header))
    for r in rows:
        if r.value is None:
            value = "-"
        elif isinstance(r.value, float):
            value = f"{r.value:.2f} {r.unit}"
        else:
            value = f"{r.value} {r.unit}"
        ratio = "" if r.ratio is None else f"{r.ratio:.1f}x {r.ratio_to}"
        cpu = "" if r.cpu_ms is None else f"{r.cpu_ms:.2f} ms"
        cpu_ratio = "" if r.cpu_ratio is None else f"{r.cpu_ratio:.1f}x"
        result = "" if r.passed is None else ("PASS" if r.passed else "FAIL")
        log(
            f"{r.figure:<46} {value:>11} {ratio:>12} {cpu:>9} {cpu_ratio:>9}  {r.goal:<34} {result}"
        )


def previous_other_tier(tier: str) -> dict[str, Any] | None:
    if not RESULTS.exists():
        return None
    for path in sorted(RESULTS.glob("*.json"), reverse=True):
        with contextlib.suppress(ValueError, KeyError, OSError):
            data = json.loads(path.read_text())
            if data["meta"]["tier"] != tier:
                miss = data["figures"]["dashboard miss (1000 answers)"]
                return {"tier": data["meta"]["tier"], "p50_ms": miss["p50_ms"], "file": path.name}
    return None
