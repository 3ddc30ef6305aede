"""``manage.py analyse_items [--question ID ...] [--no-progress]``: the nightly item analysis
(``quality.analyse_items``) run by hand, e.g. after an import or a change of thresholds, with a
progress bar over the questions on a terminal."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.command_line import add_progress_argument, progress_bar
from apps.quality.services.analysis import analyse_items


class Command(BaseCommand):
    help = (
        "Recompute the item statistics and flags of every answered question, or of the given "
        "ones, as the nightly quality.analyse_items task does (docs/item-analysis.md). Safe to "
        "run at any time and repeatedly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--question",
            type=int,
            action="append",
            dest="question_ids",
            metavar="ID",
            help="only this question (repeat for several); default: every answered question",
        )
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        with progress_bar(self, options, total=None, desc="analysing", unit="question") as bar:

            def advance(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            report = analyse_items(question_ids=options["question_ids"], progress=advance)
        flags = ", ".join(f"{name} {count}" for name, count in sorted(report.flags.items()))
        self.stdout.write(
            f"questions: {report.questions}, versions: {report.versions}, "
            f"flagged: {report.flagged}{f' ({flags})' if flags else ''}, "
            f"batches: {report.batches}"
        )
