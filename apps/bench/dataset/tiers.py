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
    use: str = ""  # what the tier is for and what it costs (the command's --help)

    @property
    def total_answers(self) -> int:
        return self.answers + sum(self.probes)


TIERS = {
    # XS: for the dataset's own tests and smoke runs (``make bench`` needs S or M: its probes).
    "XS": Tier(
        name="XS",
        questions=300,
        users=30,
        answers=3_000,
        probes=(100, 1_000),
        use="seconds; the dataset's own tests and smoke runs (too small for `make bench`)",
    ),
    "S": Tier(
        name="S",
        questions=8_000,
        users=2_000,
        answers=200_000,
        use="about a minute; the default, and what `make bench` builds when it finds none",
    ),
    "M": Tier(
        name="M",
        questions=20_000,
        users=50_000,
        answers=10_000_000,
        use="about 13 minutes and 5 GB of disk (docs/benchmark.md); a database of its own",
    ),
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
