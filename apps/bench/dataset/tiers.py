"""The dataset's sizes (tiers), its report and its error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.bench.constants import PROBE_ANSWERS


@dataclass(frozen=True)
class Tier:
    name: str
    questions: int
    users: int
    answers: int  # spread over the regular users; the probes come on top
    probes: tuple[int, ...] = PROBE_ANSWERS  # one probe user with exactly this many answers each


TIERS = {
    # XS: for the dataset's own tests and smoke runs (``make bench`` needs S or M: its probes).
    "XS": Tier(name="XS", questions=300, users=30, answers=3_000, probes=(100, 1_000)),
    "S": Tier(name="S", questions=8_000, users=2_000, answers=200_000),
    "M": Tier(name="M", questions=20_000, users=50_000, answers=10_000_000),
}


class BenchDataError(Exception):
    """The dataset cannot be built as asked (message says why and what to do)."""


@dataclass
class BuildReport:
    tier: str
    seed: int
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    probes: list[dict[str, Any]] = field(default_factory=list)
    verified_learners: int = 0
    exam_template_id: int | None = None
