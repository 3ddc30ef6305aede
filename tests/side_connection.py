"""A second, plain psycopg connection to this worker's test database, beside Django's own:
for tests that act on Django's connection from outside (terminate its backend, watch it)."""

from __future__ import annotations

import psycopg
from django.db import connection


def side_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=int(settings["PORT"] or 5432),
        user=settings["USER"] or "postgres",
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    )
