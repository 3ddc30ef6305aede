"""The dataset's SQL takes table names from the models, never from literals."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

import apps.bench.dataset as dataset
from apps.bench.dataset.db import MODELS, statement


def test_no_model_table_is_named_literally_in_the_dataset_code() -> None:
    tables = {model._meta.db_table for model in apps.get_models()}
    tables |= {model._meta.db_table for model in MODELS.values()}  # incl. auto-created M2M
    source = "\n".join(p.read_text() for p in Path(dataset.__file__).parent.glob("*.py"))
    assert sorted(t for t in tables if t in source) == []


@pytest.mark.django_db
def test_statement_fills_tables_from_the_models_and_numbers_as_literals() -> None:
    connection.ensure_connection()
    text = statement(
        "SELECT 1 FROM {user} JOIN {target} t ON true LIMIT {n}", target="answerfact", n=3
    )
    assert text.as_string(connection.connection) == (
        'SELECT 1 FROM "accounts_user" JOIN "analytics_answerfact" t ON true LIMIT 3'
    )
