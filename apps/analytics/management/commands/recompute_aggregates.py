"""``manage.py recompute_aggregates [--user ID] [--no-progress]``: rebuild the learning record's
aggregates, by hand, as the nightly ``analytics.recompute_aggregates`` task does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.analytics.services import learner_ids, recompute_aggregates
from apps.core.command_line import add_progress_argument, progress_bar


class Command(BaseCommand):
    help = (
        "Rebuild daily activity and per-category progress from the answer facts and the "
        "heartbeat log (everyone, or one user). Safe to run at any time and repeatedly. "
        "A progress bar counts learners on a terminal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", type=int, default=None, help="only this user id")
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        ids = [options["user"]] if options["user"] is not None else learner_ids()
        with progress_bar(self, options, total=len(ids), desc="rebuilding", unit="learner") as bar:
            report = recompute_aggregates(user_ids=ids, progress=bar.update)
        self.stdout.write(
            f"learners: {report.learners}, rows created: {report.created}, "
            f"updated: {report.updated}, deleted: {report.deleted}"
        )
