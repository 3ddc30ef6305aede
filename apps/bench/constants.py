"""Names shared by the dataset command and the load generator (no Django imports, so that
``scripts/bench/run.py`` can use them without configuring Django)."""

from __future__ import annotations

BENCH_EMAIL_DOMAIN = "bench.openmrcs.local"
BENCH_REFERENCE = "bench-dataset"
BENCH_PASSWORD = "bench-password-not-a-secret"  # noqa: S105 - a known benchmark password  # nosec B105
BENCH_EXAM_TEMPLATE = "Bench: 180 questions (fixed)"
BENCH_EXAM_QUESTIONS = 180
PROBE_ANSWERS = (100, 1_000, 10_000, 50_000)


def probe_email(answers: int) -> str:
    return f"bench-probe-{answers}@{BENCH_EMAIL_DOMAIN}"


def user_email(index: int) -> str:
    return f"bench-u{index:06d}@{BENCH_EMAIL_DOMAIN}"
