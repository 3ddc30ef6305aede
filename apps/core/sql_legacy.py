"""TRANSITIONAL: the old positional helpers, removed once every app uses apps.core.sql (issue 12).

Building a query with the ORM costs more than running it: on the benchmark's machine, compiling
the authentication lookup (a join with five conditions and a ``select_related``) takes ~1.4 ms
of Python per request; the same statement written out runs in ~0.3 ms. The few statements that
run on every request (authentication, the learner's cache version, the dashboard, answering)
are written out here and in their apps' selectors, with these helpers; everything else stays on
the ORM. docs/benchmark.md has the measurements.

Rules for SQL written this way:
- values are always parameters (``%s``); only names come from the models' own metadata;
- column lists come from ``_meta`` (:func:`columns`), so a model change follows without edits;
- it must run on SQLite too (the embedded development default): no PostgreSQL-only syntax
  unless the caller branches on ``connection.vendor``;
- the ORM's model instances are rebuilt with :func:`instances_from_row` (``Model.from_db``), so
  callers get what a queryset would have given them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def adapt(value: Any) -> Any:
    """SQLite needs Django's own text form of dates and datetimes; psycopg adapts natively."""
    if connection.vendor == "postgresql":
        return value
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def aware(moment: datetime) -> datetime:
    """A datetime read by hand-written SQL as the ORM would give it: SQLite hands back naive
    UTC values, PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# An id list is one array parameter on PostgreSQL (``= ANY(%s)``), which keeps the statement
# text fixed whatever the number of ids; SQLite gets an ``IN`` list of that many parameters.


def ids_condition(column: str, count: int) -> str:
    """``column`` is one of ``count`` ids, passed as :func:`ids_params`."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)"
    return f"{column} IN ({', '.join(['%s'] * count)})" if count else "1 = 0"


def ids_params(ids: Sequence[int]) -> list[Any]:
    return [list(ids)] if connection.vendor == "postgresql" else list(ids)


def ids_text_key(count: int) -> int:
    """What a cached statement built with :func:`ids_condition` depends on besides the
    vendor: the number of ids, on SQLite only."""
    return 0 if connection.vendor == "postgresql" else count


def columns(model: type[Model], alias: str) -> str:
    """``alias."col", ...`` for every concrete field of ``model``, in ``_meta`` order (the order
    :func:`instances_from_row` expects)."""
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


def instances_from_row(row: Sequence[Any], *models: type[Model]) -> list[Model | None]:
    """Rebuilds one instance per model from a row holding each model's :func:`columns` in turn.
    A model whose primary key is NULL (an outer join that found nothing) gives ``None``. Values
    go through the fields' ``from_db_value`` converters as the ORM would apply them."""
    found: list[Model | None] = []
    start = 0
    for model in models:
        shape = _shape(model)
        values = list(row[start : start + len(shape.fields)])
        start += len(shape.fields)
        if values[shape.pk_index] is None:
            found.append(None)
            continue
        for i, field, converters in shape.converters:
            for converter in converters:
                values[i] = converter(values[i], field, connection)
        found.append(model.from_db(connection.alias, shape.attnames, values))
    return found


class _Shape:
    def __init__(self, model: type[Model]):
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.pk_index = next(i for i, f in enumerate(self.fields) if f.primary_key)
        self.converters: list[tuple[int, Any, list[Any]]] = []
        for i, field in enumerate(self.fields):
            col = field.cached_col  # the expression the ORM's own converters are looked up for
            found = [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]
            if found:
                self.converters.append((i, col, found))


_shapes: dict[tuple[str, type[Model]], _Shape] = {}


def _shape(model: type[Model]) -> _Shape:
    key = (connection.vendor, model)
    if key not in _shapes:
        _shapes[key] = _Shape(model)
    return _shapes[key]


def fetch_one(sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(p) for p in params])
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def fetch_all(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(p) for p in params])
        return [tuple(r) for r in cursor.fetchall()]


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    """Runs a write; returns the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(p) for p in params])
        return int(cursor.rowcount)
