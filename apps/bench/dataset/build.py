"""Building the whole dataset in one transaction, checking it and reporting on it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from apps.analytics.services import recompute_aggregates
from apps.bench.constants import BENCH_EMAIL_DOMAIN, BENCH_PASSWORD, BENCH_REFERENCE, probe_email
from apps.bench.dataset.bank import build_exam_template, build_questions
from apps.bench.dataset.db import REPORTED, rows, run, scalar, statement, table_name
from apps.bench.dataset.history import build_aggregates, build_history
from apps.bench.dataset.learners import build_users
from apps.bench.dataset.tiers import BenchDataError, BuildReport, Tier
from apps.bench.dataset.wipe import bench_users, dataset_exists
from apps.questions.models import Question
from apps.taxonomy.models import Category


def install_helpers(seed: int) -> None:
    """Session-private SQL helpers: ``pg_temp.bench_u(x, salt)`` is a uniform number in [0, 1)
    that depends only on ``x``, ``salt`` and the seed."""
    run(
        statement(
            "CREATE OR REPLACE FUNCTION pg_temp.bench_u(x bigint, salt bigint) RETURNS float8 "
            "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
            "SELECT (hashint8extended(x, {seed} * 1000 + salt) & 2147483647)::float8 "
            "/ 2147483648.0 $$",
            seed=seed,
        )
    )


def verify_aggregates(*, user_ids: Sequence[int]) -> int:
    """Runs the analytics app's own rebuild for these learners; it must change nothing."""
    report = recompute_aggregates(user_ids=list(user_ids))
    if report.changed:
        raise BenchDataError(
            f"The generated aggregates differ from the analytics rebuild: {report.created} "
            f"created, {report.updated} updated, {report.deleted} deleted "
            f"(over {report.learners} learners)."
        )
    return report.learners


# The build's steps in order, each one timed and reported (``BuildReport.timings``).
BUILD_STEPS = (
    "questions and options",
    "users and profiles",
    "practice sessions, attempts, answer facts",
    "aggregates (SQL)",
    "exam template",
    "vacuum analyze",
    "verify aggregates (analytics rebuild)",
)


def build_dataset(
    *,
    tier: Tier,
    seed: int,
    verify_sample: int | None,
    log: Callable[[str], None] = print,
    step_done: Callable[[str], object] | None = None,
) -> BuildReport:
    """Builds the dataset in one transaction. ``verify_sample``: how many learners (besides
    the probes) to check against the analytics rebuild; ``None`` checks every one.
    ``step_done(name)`` is called after each of ``BUILD_STEPS`` (a progress bar's hook)."""
    if dataset_exists():
        raise BenchDataError("A bench dataset exists already: pass --wipe to replace it.")
    report = BuildReport(tier=tier.name, seed=seed)

    def step(name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = action()
        report.timings[name] = round(time.perf_counter() - started, 2)
        log(f"  {name}: {report.timings[name]:.2f} s")
        if step_done is not None:
            step_done(name)
        return result

    # One hash for every bench user (PBKDF2 is deliberately slow); a fixed salt keeps it
    # reproducible from the seed.
    password_hash = make_password(BENCH_PASSWORD, salt=f"bench{seed}salt")
    with transaction.atomic():
        run("SET LOCAL work_mem = '64MB'")
        install_helpers(seed)
        step("questions and options", lambda: build_questions(tier))
        step("users and profiles", lambda: build_users(tier, password_hash))
        step("practice sessions, attempts, answer facts", build_history)
        step("aggregates (SQL)", build_aggregates)
        report.exam_template_id = step("exam template", build_exam_template)
        probes = rows("SELECT id, probe FROM bench_user WHERE probe IS NOT NULL ORDER BY probe")
        others = [r[0] for r in rows("SELECT id FROM bench_user WHERE probe IS NULL ORDER BY id")]
    # Statistics and the visibility map, as a database in steady use would have them (and the
    # space of a wiped dataset made reusable).
    step(
        "vacuum analyze",
        lambda: [run(statement("VACUUM (ANALYZE) {t}", t=key)) for key in REPORTED],
    )
    rng = random.Random(seed)  # nosec B311 # reproducible sample
    sample = (
        others if verify_sample is None else rng.sample(others, min(verify_sample, len(others)))
    )
    learners = [pid for pid, _ in probes] + sorted(sample)
    report.verified_learners = step(
        "verify aggregates (analytics rebuild)", lambda: verify_aggregates(user_ids=learners)
    )
    report.probes = [
        {"answers": n, "user_id": pid, "email": probe_email(n), "password": BENCH_PASSWORD}
        for pid, n in probes
    ]
    report.counts = bench_counts()
    return report


def bench_counts() -> dict[str, int]:
    """Rows of the bench dataset per table (whole tables for the per-learner ones)."""
    return {
        "bench users": bench_users().count(),
        "bench questions": Question.objects.filter(reference=BENCH_REFERENCE).count(),
        "bench answer facts": int(
            scalar(
                statement(
                    "SELECT count(*) FROM {answerfact} f JOIN {user} u ON u.id = f.user_id "
                    "WHERE u.email LIKE %s"
                ),
                [f"%@{BENCH_EMAIL_DOMAIN}"],
            )
        ),
        "categories (active)": Category.objects.filter(is_active=True).count(),
    }


def table_report() -> list[tuple[str, int, int]]:
    """``(table, rows, total bytes with indexes and TOAST)`` for the dataset's tables."""
    return [
        (
            table_name(key),
            int(scalar(statement("SELECT count(*) FROM {t}", t=key))),
            int(scalar("SELECT pg_total_relation_size(%s::regclass)", [table_name(key)])),
        )
        for key in REPORTED
    ]
