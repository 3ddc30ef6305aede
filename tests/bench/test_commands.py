"""``manage.py bench_data``'s help (every tier and its size, from ``TIERS``) and its progress
bar over the build's steps, drawn only on a terminal."""

from __future__ import annotations

from dataclasses import replace
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from apps.bench.dataset import BUILD_STEPS, TIERS
from apps.bench.management.commands.bench_data import Command, tiers_help
from tests.taxonomy.factories import CategoryFactory
from tests.terminal import Terminal


def help_text() -> str:
    return Command().create_parser("manage.py", "bench_data").format_help()


def test_help_lists_every_tier_with_its_size() -> None:
    text = help_text()

    assert "--tier {XS,S,M}" in text
    assert "  tier  questions  learners     answers  probe learners' answers" in text
    rows = {
        parts[0]: parts
        for line in text.splitlines()
        if (parts := line.split()) and parts[0] in TIERS and not line.startswith("   ")
    }
    assert rows == {
        "XS": ["XS", "300", "32", "4,100", "100,", "1,000"],
        "S": ["S", "8,000", "2,004", "261,100", "100,", "1,000,", "10,000,", "50,000"],
        "M": ["M", "20,000", "50,004", "10,061,100", "100,", "1,000,", "10,000,", "50,000"],
    }
    for tier in TIERS.values():
        assert tier.use in text  # what each is for and what it costs, on a line of its own
    assert "about 13 minutes and 5 GB of disk" in text


def test_help_follows_the_tiers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TIERS, "XS", replace(TIERS["XS"], questions=450))

    assert "  XS          450" in tiers_help()


def build(out: StringIO, err: StringIO, *extra: str) -> None:
    call_command(
        "bench_data", "--tier", "XS", "--seed", "3", "--no-seed", *extra, stdout=out, stderr=err
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("bench_app")
def test_a_terminal_gets_a_bar_over_the_steps_and_a_pipe_does_not(db: Any) -> None:
    for _ in range(3):
        CategoryFactory()
    out, err = Terminal(), Terminal()
    build(out, err)

    assert "tier XS" in err.getvalue()
    assert f"{len(BUILD_STEPS)}/{len(BUILD_STEPS)}" in err.getvalue()  # the bar reached the end
    for step in BUILD_STEPS:
        assert f"  {step}: " in out.getvalue()  # each step's timing, above the bar
    assert "bench dataset ready" in out.getvalue()

    piped_out, piped_err = StringIO(), StringIO()
    build(piped_out, piped_err, "--wipe")
    assert piped_err.getvalue() == ""
    assert "bench dataset ready" in piped_out.getvalue()

    quiet_out, quiet_err = Terminal(), Terminal()
    build(quiet_out, quiet_err, "--wipe", "--no-progress")
    assert quiet_err.getvalue() == ""
