"""Multi-row inserts and additive upserts in one statement, for PostgreSQL and SQLite.

``bulk_create(update_conflicts=True)`` overwrites on conflict; the learning record needs
``x = x + excluded.x`` so that two concurrent writers both count. PostgreSQL receives one array
per column (``unnest``), so a statement has a fixed number of parameters whatever the number of
rows; SQLite (the embedded development default) receives a ``VALUES`` list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from apps.core.sql import adapt as _adapt
from apps.core.sql import quote as _quote


def _rows_source(
    columns: Sequence[str], pg_types: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    if connection.vendor == "postgresql":
        arrays = [list(col) for col in zip(*rows, strict=True)]
        unnest = ", ".join(f"%s::{t}[]" for t in pg_types)
        # Only type names from this module's callers are interpolated; values are parameters.
        return f"SELECT * FROM unnest({unnest})", arrays  # noqa: S608  # nosec B608
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = [_adapt(v) for row in rows for v in row]
    return "VALUES " + ", ".join([one] * len(rows)), params


def insert_ignoring_conflicts(
    *,
    table: str,
    columns: Sequence[str],
    pg_types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Inserts ``rows``, skipping any that collide on ``conflict``; returns ``returning`` of the
    rows actually inserted."""
    if not rows:
        return []
    source, params = _rows_source(columns, pg_types, rows)
    sql = (
        f"INSERT INTO {_quote(table)} ({', '.join(_quote(c) for c in columns)}) {source} "
        f"ON CONFLICT ({', '.join(_quote(c) for c in conflict)}) DO NOTHING "
        f"RETURNING {', '.join(_quote(c) for c in returning)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()]


def upsert_adding(
    *,
    table: str,
    columns: Sequence[str],
    pg_types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    add: Sequence[str],
    latest: Sequence[str] = (),
) -> None:
    """Inserts ``rows``; on a ``conflict`` adds the ``add`` columns to the stored values and keeps
    the later of the stored and new ``latest`` values. The keys in ``rows`` must be unique."""
    if not rows:
        return
    source, params = _rows_source(columns, pg_types, rows)
    t = _quote(table)
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    sets = [f"{_quote(c)} = {t}.{_quote(c)} + excluded.{_quote(c)}" for c in add]
    sets += [f"{_quote(c)} = {greatest}({t}.{_quote(c)}, excluded.{_quote(c)})" for c in latest]
    sql = (
        f"INSERT INTO {t} ({', '.join(_quote(c) for c in columns)}) {source} "  # nosec B608 # quoted names, values are parameters
        f"ON CONFLICT ({', '.join(_quote(c) for c in conflict)}) DO UPDATE SET {', '.join(sets)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
