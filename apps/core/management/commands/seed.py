"""``manage.py seed``: idempotent demo data, app by app in layer order.

Each app that has demo data exposes ``apps.<app>.seed.seed_demo(*, stdout) -> None``; running the
command again changes nothing that is already there. ``--synthetic N`` adds N generated questions
for load tests (bulk inserts, clearly marked).
"""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

SEED_ORDER = [
    "accounts",
    "taxonomy",
    "questions",
    "resources",
    "cms",
    "exams",
    "notifications",
]


class Command(BaseCommand):
    help = "Create demo data (idempotent). --synthetic N adds N generated questions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--synthetic", type=int, default=0, help="generated questions to add")

    def handle(self, *args: Any, **options: Any) -> None:
        for app in SEED_ORDER:
            try:
                module = importlib.import_module(f"apps.{app}.seed")
            except ModuleNotFoundError as exc:
                if exc.name != f"apps.{app}.seed":
                    raise
                continue
            with transaction.atomic():
                module.seed_demo(stdout=self.stdout)
        if options["synthetic"]:
            from apps.questions.seed import seed_synthetic

            created = seed_synthetic(count=options["synthetic"])
            self.stdout.write(f"synthetic questions added: {created}")
        self.stdout.write(self.style.SUCCESS("seed complete"))
