"""``manage.py analyse_items``: the nightly item analysis by hand, with a progress bar over the
questions on a terminal and none on a pipe or with ``--no-progress``."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.questions.models import Question
from tests.analytics.helpers import answer, publish
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory
from tests.terminal import Terminal

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(user: User, other_user: User) -> list[Question]:
    category = CategoryFactory()
    questions = [make_question(category) for _ in range(3)]
    publish(*(answer(learner, q) for learner in (user, other_user) for q in questions))
    return questions


def test_every_answered_question_with_a_bar_counting_them(
    answered: list[Question], settings: Any
) -> None:
    settings.QUALITY_ANALYSIS_BATCH = 2
    out, err = Terminal(), Terminal()
    call_command("analyse_items", stdout=out, stderr=err)

    # (No version has statistics: the facts here carry no practice selections to analyse.)
    assert out.getvalue() == "questions: 3, versions: 0, flagged: 0, batches: 2\n"
    assert "analysing" in err.getvalue()
    assert "3/3" in err.getvalue()


def test_chosen_questions_and_no_bar_on_a_pipe_or_when_asked(answered: list[Question]) -> None:
    piped_out, piped_err = StringIO(), StringIO()
    call_command(
        "analyse_items", "--question", str(answered[0].pk), stdout=piped_out, stderr=piped_err
    )
    quiet_out, quiet_err = Terminal(), Terminal()
    call_command("analyse_items", "--no-progress", stdout=quiet_out, stderr=quiet_err)

    assert piped_out.getvalue().startswith("questions: 1,")
    assert quiet_out.getvalue().startswith("questions: 3,")
    assert piped_err.getvalue() == quiet_err.getvalue() == ""
