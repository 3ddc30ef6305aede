"""The long commands' progress bar (apps/core/command_line.py): drawn on the error stream only
when both output streams are terminals and ``--no-progress`` was not given."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management.base import BaseCommand, OutputWrapper

from apps.core.command_line import progress_bar, progress_wanted
from tests.terminal import Terminal


def command(out: StringIO, err: StringIO) -> BaseCommand:
    cmd = BaseCommand()
    cmd.stdout, cmd.stderr = OutputWrapper(out), OutputWrapper(err)
    return cmd


@pytest.mark.parametrize(
    ("out", "err", "options", "wanted"),
    [
        (Terminal, Terminal, {}, True),
        (Terminal, Terminal, {"no_progress": False}, True),
        (Terminal, Terminal, {"no_progress": True}, False),
        (StringIO, Terminal, {}, False),  # `manage.py ... > report.txt`
        (Terminal, StringIO, {}, False),  # `manage.py ... 2> log`
        (StringIO, StringIO, {}, False),  # cron, CI
    ],
)
def test_progress_is_wanted_only_on_terminals(
    out: type[StringIO], err: type[StringIO], options: dict[str, Any], wanted: bool
) -> None:
    assert progress_wanted(command(out(), err()), options) is wanted


def test_the_bar_goes_to_the_error_stream_and_messages_above_it() -> None:
    out, err = Terminal(), Terminal()
    cmd = command(out, err)
    with progress_bar(cmd, {}, total=3, desc="working", unit="thing") as bar:
        bar.write("a step", file=out)
        bar.update(3)

    assert out.getvalue() == "a step\n"
    assert "working" in err.getvalue()
    assert "3/3" in err.getvalue()


def test_a_hidden_bar_draws_nothing_and_messages_still_print() -> None:
    out, err = StringIO(), StringIO()
    with progress_bar(command(out, err), {}, total=2, desc="working") as bar:
        bar.write("a step", file=out)
        bar.update(2)

    assert err.getvalue() == ""
    assert out.getvalue() == "a step\n"
