"""A captured stream that says it is a terminal, for commands that draw progress bars only
there (apps/core/command_line.py)."""

from __future__ import annotations

from io import StringIO


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True
