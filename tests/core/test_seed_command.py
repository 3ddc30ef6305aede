"""``manage.py seed`` discovers each app's seed module instead of naming the apps."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.core.management.commands.seed import seed_modules
from apps.questions.models import Question


def test_seed_modules_are_found_in_installed_apps_order() -> None:
    names = [module.__name__ for module in seed_modules()]
    assert names == [
        "apps.accounts.seed",
        "apps.taxonomy.seed",
        "apps.questions.seed",
        "apps.resources.seed",
        "apps.cms.seed",
        "apps.exams.seed",
        "apps.notifications.seed",
    ]


@pytest.mark.django_db
def test_synthetic_questions_come_from_the_module_that_offers_them() -> None:
    out = StringIO()
    call_command("seed", "--synthetic", "3", stdout=out)
    assert "synthetic questions added: 3" in out.getvalue()
    assert Question.objects.filter(is_synthetic=True).count() == 3
