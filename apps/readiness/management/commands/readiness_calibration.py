"""``manage.py readiness_calibration``: predicted against actual on held-out mocks (see
apps/readiness/services/report.py), printed and stored for the admin page. ``--calibrate`` runs
the nightly calibration first (by hand, e.g. after an import)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.readiness.models import CalibrationRun
from apps.readiness.services.calibration import calibrate
from apps.readiness.services.report import build_calibration_report


class Command(BaseCommand):
    help = (
        "Computes readiness's calibration report (Brier score, reliability by decile, the 80% "
        "interval's coverage) on submitted mocks held out from a fresh fit."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--holdout-every",
            type=int,
            default=5,
            help="Hold out every Nth submitted mock (by id) from the fit (default 5).",
        )
        parser.add_argument(
            "--calibrate",
            action="store_true",
            help="Run the nightly calibration (model and every ability) first.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["holdout_every"] < 2:
            self.stderr.write("--holdout-every must be at least 2")
            raise SystemExit(2)
        if options["calibrate"]:
            run = calibrate(progress=self.stdout.write)
            if run.status != CalibrationRun.Status.FINISHED:
                self.stderr.write(f"calibration failed: {run.error}")
                raise SystemExit(1)
            self.stdout.write(
                f"calibration {run.pk}: {run.items} items, {run.learners} learners, "
                f"{run.responses} first attempts, {run.seconds:.1f} s"
            )
        report = build_calibration_report(
            holdout_every=options["holdout_every"], progress=self.stdout.write
        )
        if not report.answers:
            self.stdout.write("No held-out mock answers yet: nothing to compare.")
            return
        self.stdout.write(
            f"held-out mocks {report.sessions}, answers {report.answers}\n"
            f"Brier score {report.brier:.4f} (knowing nothing: {report.brier_baseline:.4f})\n"
            f"80% interval coverage {100 * (report.interval_coverage or 0):.0f}%\n"
            f"pass-mark Brier score {report.pass_brier:.4f}"
        )
        self.stdout.write("decile  n      predicted  observed")
        for index, row in enumerate(report.deciles, start=1):
            self.stdout.write(
                f"{index:>6}  {row['n']:<6} {row['predicted']:<10.3f} {row['observed']:.3f}"
            )
