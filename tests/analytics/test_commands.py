"""``manage.py recompute_aggregates``: a progress bar over the learners on a terminal, none on a
pipe or with ``--no-progress``; the report on standard output either way."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.analytics.models import DailyActivity
from apps.taxonomy.models import Category
from tests.analytics.helpers import answer, publish
from tests.questions.factories import make_question
from tests.terminal import Terminal

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def two_learners(user: User, other_user: User, categories: list[Category]) -> None:
    question = make_question(categories[0])
    publish(answer(user, question, at=AT), answer(other_user, question, at=AT))
    DailyActivity.objects.update(correct=0)  # drift for the rebuild to repair


@pytest.mark.usefixtures("two_learners")
def test_a_terminal_gets_a_bar_counting_learners() -> None:
    out, err = Terminal(), Terminal()
    call_command("recompute_aggregates", stdout=out, stderr=err)

    assert "rebuilding" in err.getvalue()
    assert "2/2" in err.getvalue()  # both learners counted
    assert "learner" in err.getvalue()
    assert out.getvalue() == "learners: 2, rows created: 0, updated: 2, deleted: 0\n"
    assert set(DailyActivity.objects.values_list("correct", flat=True)) == {1}


@pytest.mark.usefixtures("two_learners")
def test_no_bar_on_a_pipe_or_when_asked() -> None:
    piped_out, piped_err = StringIO(), Terminal()  # stdout redirected, stderr on the terminal
    call_command("recompute_aggregates", stdout=piped_out, stderr=piped_err)
    quiet_out, quiet_err = Terminal(), Terminal()
    call_command("recompute_aggregates", "--no-progress", stdout=quiet_out, stderr=quiet_err)

    assert piped_err.getvalue() == quiet_err.getvalue() == ""
    assert piped_out.getvalue().startswith("learners: 2, rows created: 0, updated: 2")
    assert quiet_out.getvalue().startswith("learners: 2, rows created: 0, updated: 0")


def test_one_learner_by_id(user: User, other_user: User, categories: list[Category]) -> None:
    publish(answer(user, make_question(categories[0]), at=AT))
    out, err = Terminal(), Terminal()
    call_command("recompute_aggregates", "--user", str(user.pk), stdout=out, stderr=err)

    assert "1/1" in err.getvalue()
    assert out.getvalue().startswith("learners: 1,")
