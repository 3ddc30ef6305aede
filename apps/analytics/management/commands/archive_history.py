"""``manage.py archive_history --before YYYY-MM [--execute --to DIR]``: old months of the answer
log leave the database (apps/analytics/services/archiving.py; docs/partitioning.md).

Without ``--execute`` it only shows what it would do.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.analytics.services import archiving


def _month(value: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError as error:
        raise CommandError(f"--before takes a month as YYYY-MM, not {value!r}") from error


class Command(BaseCommand):
    help = (
        "Archives the answer log's months before --before: each learner's first attempts stay, "
        "the later answers' totals are kept per learner and day and per category (the "
        "aggregates never change), and the answers themselves go, without learner or session, "
        "to a gzip CSV in --to. A dry run unless --execute."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, help="the first month kept whole (YYYY-MM)")
        parser.add_argument("--execute", action="store_true", help="archive (else: a dry run)")
        parser.add_argument("--to", type=Path, help="directory for the archive files")
        parser.add_argument(
            "--min-age-months",
            type=int,
            default=12,
            help="refuse a cut more recent than this many months (default 12)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        before = _month(options["before"])
        if options["execute"] and not options["to"]:
            raise CommandError("--execute needs --to: the directory for the archive files")
        if options["min_age_months"] < 1:
            raise CommandError("--min-age-months must be at least 1")
        months = archiving.plan(before=before, min_age_months=options["min_age_months"])
        if not months:
            self.stdout.write(f"No partition of the answer log lies wholly before {before:%Y-%m}.")
            return
        for month in months:
            state = month.refused or (
                f"{month.repeats} of {month.rows} answers to archive, "
                f"{month.rows - month.repeats} first attempts kept"
            )
            self.stdout.write(f"{month.partition} ({month.bounds.text}): {state}")
        ready = [m for m in months if m.refused is None]
        if not options["execute"]:
            self.stdout.write(f"Dry run: {len(ready)} partition(s) would be archived (--execute).")
            return
        for month in ready:
            row = archiving.archive_month(month, directory=options["to"])
            self.stdout.write(
                self.style.SUCCESS(
                    f"{row.partition}: {row.rows_archived} answers archived to {row.file} "
                    f"(sha256 {row.sha256[:12]}...), {row.rows_kept} first attempts kept"
                )
            )
