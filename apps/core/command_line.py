"""What the long management commands share: a progress bar that shows only where someone is
watching, and help text laid out as written.

A bar is drawn on the command's error stream (tqdm), so the command's report on its standard
output stays clean. It is hidden with ``--no-progress``, and whenever the standard output or the
error stream is not a terminal (a pipe, a file, cron, CI, the tests): there, a bar's carriage
returns are only noise in a log.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser, DjangoHelpFormatter
from tqdm import tqdm


class RawDescriptionHelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's help layout (its common options last) that keeps the description's own line
    breaks, for a command whose help is a table."""


def add_progress_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (there is none either when the output is not a terminal)",
    )


def progress_wanted(command: BaseCommand, options: dict[str, Any]) -> bool:
    """True unless ``--no-progress`` was given or either output stream is not a terminal."""
    if options.get("no_progress"):
        return False
    return bool(command.stdout.isatty() and command.stderr.isatty())


def progress_bar(
    command: BaseCommand,
    options: dict[str, Any],
    *,
    total: int | None,
    desc: str,
    unit: str = "it",
) -> tqdm[Any]:
    """A tqdm bar on the command's error stream, disabled where :func:`progress_wanted` says
    so (a disabled bar accepts ``update`` and ``write`` and draws nothing). Messages printed
    while it runs go through ``bar.write(text, file=...)`` so they do not tear it."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=command.stderr._out,
        disable=not progress_wanted(command, options),
        dynamic_ncols=True,
    )
