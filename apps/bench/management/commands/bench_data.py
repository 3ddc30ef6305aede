"""``manage.py bench_data --tier S|M --seed 42 [--wipe]``: the benchmark dataset.

See ``apps.bench.dataset`` for what is generated and ``docs/benchmark.md`` for how the
benchmark uses it. PostgreSQL only. Refuses to run over an existing bench dataset unless
``--wipe`` is given, which deletes the previous one first (bench users are recognised by their
email domain, bench questions by their reference).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.bench.constants import BENCH_PASSWORD
from apps.bench.dataset import (
    TIERS,
    BenchDataError,
    build_dataset,
    dataset_exists,
    table_report,
    wipe_dataset,
)


def _size(num_bytes: int) -> str:
    value = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GB"


class Command(BaseCommand):
    help = (
        "Build the benchmark dataset in PostgreSQL (tier S: 8k questions, 2k users, 200k "
        "answers; tier M: 20k questions, 50k users, 10M answers) plus probe users with 100, "
        "1k, 10k and 50k answers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tier", choices=sorted(TIERS), default="S")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--wipe", action="store_true", help="delete a previous bench dataset first"
        )
        parser.add_argument(
            "--wipe-only", action="store_true", help="delete the bench dataset and stop"
        )
        parser.add_argument(
            "--no-seed", action="store_true", help="do not run `manage.py seed` first"
        )
        parser.add_argument(
            "--verify-sample",
            type=int,
            default=200,
            help="learners (besides the probes) checked against the analytics rebuild "
            "(default 200; -1: every one)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tier = TIERS[options["tier"]]
        seed = int(options["seed"])
        log = self.stdout.write
        started = time.perf_counter()
        try:
            if options["wipe"] or options["wipe_only"]:
                if dataset_exists():
                    log("wiping the previous bench dataset")
                    wipe_dataset(log=log)
                if options["wipe_only"]:
                    return
            if not options["no_seed"]:
                call_command("seed", stdout=self.stdout)
            verify = options["verify_sample"]
            if verify == -1:
                verify = None  # every learner
            log(f"building tier {tier.name} with seed {seed}")
            report = build_dataset(tier=tier, seed=seed, verify_sample=verify, log=log)
        except BenchDataError as exc:
            raise CommandError(str(exc)) from exc

        log("")
        log(f"seed: {report.seed}  tier: {report.tier}")
        for name, count in report.counts.items():
            log(f"  {name}: {count:,}")
        log(f"  learners verified against the analytics rebuild: {report.verified_learners:,}")
        log(f"  exam template id: {report.exam_template_id}")
        log("tables (rows, total size with indexes):")
        for table, rows, size in table_report():
            log(f"  {table:<32} {rows:>12,}  {_size(size):>10}")
        log(f"probe users (password for every bench user: {BENCH_PASSWORD}):")
        for probe in report.probes:
            log(f"  {probe['answers']:>6,} answers  id {probe['user_id']:<8} {probe['email']}")
        log(self.style.SUCCESS(f"bench dataset ready in {time.perf_counter() - started:.1f} s"))
