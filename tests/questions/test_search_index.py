"""The GIN index created by migration 0003 serves the selector's full-text query (the index
expression and the query expression must stay identical for PostgreSQL to use it)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations.state import ProjectState

from apps.questions.models import Question
from apps.questions.selectors import search_questions
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

migration = importlib.import_module("apps.questions.migrations.0003_question_search_index")


def test_search_query_uses_the_gin_index() -> None:
    state = ProjectState.from_apps(django_apps)
    operation = migration.Migration.operations[0]
    with connection.schema_editor() as editor:
        operation.database_forwards("questions", editor, state, state)
    for i in range(3):
        make_question(stem=f"Thyroidectomy complication number {i}")
    qs = search_questions(Question.objects.all(), "thyroidectomy")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert migration.INDEX_NAME in plan, plan
    assert qs.count() == 3
