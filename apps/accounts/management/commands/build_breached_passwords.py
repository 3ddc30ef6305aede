"""``manage.py build_breached_passwords``: regenerates the bundled breached-password digests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.accounts.passwords import BREACHED_LIST_PATH, build_breached_list, load_breached_digests


class Command(BaseCommand):
    help = "Rebuild apps/accounts/data/breached-sha1.txt.gz from Django's common-password list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=BREACHED_LIST_PATH)

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        data = build_breached_list()
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
        load_breached_digests.cache_clear()
        count = len(load_breached_digests(output))
        self.stdout.write(f"{count} digests, {len(data)} bytes written to {output}")
