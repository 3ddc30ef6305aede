"""``manage.py bench_data --tier XS|S|M --seed 42 [--wipe] [--no-progress]``: the benchmark
dataset.

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
    BUILD_STEPS,
    TIERS,
    BenchDataError,
    build_dataset,
    dataset_exists,
    table_report,
    wipe_dataset,
)
from apps.core.command_line import (
    RawDescriptionHelpFormatter,
    add_progress_argument,
    progress_bar,
)


def _size(num_bytes: int) -> str:
    value = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GB"


def tiers_help() -> str:
    """The tiers as a table, from ``TIERS`` itself (so the help cannot drift from the sizes)."""
    lines = [
        "Build the benchmark dataset in PostgreSQL (docs/benchmark.md): a question bank, bench",
        "learners with their practice history and learning record, aggregates verified against",
        "the analytics rebuild, and probe learners with exactly as many answers as their name",
        "says. Every bench user's password is printed at the end.",
        "",
        "tiers (--tier):",
        f"  tier  {'questions':>9}  {'learners':>8}  {'answers':>10}  probe learners' answers",
    ]
    for tier in TIERS.values():
        probes = ", ".join(f"{n:,}" for n in tier.probes)
        lines.append(
            f"  {tier.name:<4}  {tier.questions:>9,}  {tier.users + len(tier.probes):>8,}  "
            f"{tier.total_answers:>10,}  {probes}"
        )
        lines.append(f"        {tier.use}")
    lines += [
        "",
        "Learners include the probes, answers the probes' answers. The other learners share",
        "the rest, each share rounded down, so a tier has a little fewer (M: 10,037,155).",
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = tiers_help()

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        kwargs.setdefault("formatter_class", RawDescriptionHelpFormatter)  # the table as is
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tier",
            choices=list(TIERS),
            default="S",
            help="dataset size (table above; default S)",
        )
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
        add_progress_argument(parser)

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
            with progress_bar(
                self, options, total=len(BUILD_STEPS), desc=f"tier {tier.name}", unit="step"
            ) as bar:
                report = build_dataset(
                    tier=tier,
                    seed=seed,
                    verify_sample=verify,
                    # Step timings are written above the bar, not through it.
                    log=lambda line: bar.write(line, file=self.stdout._out),
                    step_done=lambda _name: bar.update(1),
                )
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
