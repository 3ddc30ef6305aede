"""``manage.py recompute_aggregates [--user ID]``: rebuild the learning record's aggregates."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.analytics.services import recompute_aggregates


class Command(BaseCommand):
    help = (
        "Rebuild daily activity and per-category progress from the answer facts and the "
        "heartbeat log (everyone, or one user). Safe to run at any time and repeatedly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", type=int, default=None, help="only this user id")

    def handle(self, *args: Any, **options: Any) -> None:
        report = recompute_aggregates(user_id=options["user"])
        self.stdout.write(
            f"learners: {report.learners}, rows created: {report.created}, "
            f"updated: {report.updated}, deleted: {report.deleted}"
        )
