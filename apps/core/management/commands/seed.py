"""``manage.py seed``: idempotent demo data, app by app in ``INSTALLED_APPS`` order.

The command knows no app: it discovers them. Each installed app that has demo data has a
``seed`` module (``<app>/seed.py``) with ``seed_demo(*, stdout) -> None``; they run in the
order of ``INSTALLED_APPS``, which lists the apps bottom layer first, so users and the syllabus
exist before the questions and exams that refer to them. Running the command again changes
nothing that is already there. ``--synthetic N`` adds N generated questions for load tests: it
runs the ``seed_synthetic(*, count) -> int`` of whichever seed module offers one.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction


def seed_modules() -> Iterator[ModuleType]:
    """The ``seed`` module of each installed app that has one, in ``INSTALLED_APPS`` order."""
    for config in apps.get_app_configs():
        name = f"{config.name}.seed"
        if importlib.util.find_spec(name) is not None:
            yield importlib.import_module(name)


class Command(BaseCommand):
    help = "Create demo data (idempotent). --synthetic N adds N generated questions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--synthetic", type=int, default=0, help="generated questions to add")

    def handle(self, *args: Any, **options: Any) -> None:
        modules = list(seed_modules())
        for module in modules:
            if hasattr(module, "seed_demo"):
                with transaction.atomic():
                    module.seed_demo(stdout=self.stdout)
        if options["synthetic"]:
            created = sum(
                module.seed_synthetic(count=options["synthetic"])
                for module in modules
                if hasattr(module, "seed_synthetic")
            )
            self.stdout.write(f"synthetic questions added: {created}")
        self.stdout.write(self.style.SUCCESS("seed complete"))
