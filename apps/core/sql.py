"""Hand-written SQL, for the few statements a benchmark says are worth it, and how they run.

The ORM is the default. Building a query with it costs Python time on every request (on the
benchmark's machine, compiling the authentication join took ~1.4 ms; PostgreSQL ran it in
~0.3 ms), so two tools exist for the hot path, and docs/benchmark.md says what each use saves:

- :class:`CompiledQuery`: an ORM queryset compiled to SQL **once per process** and run again
  with new parameter values. The queryset stays the one home of its rule (what "published"
  means lives in ``QuestionQuerySet.published`` and nowhere else); only its compile cost goes.
  Its SQL can also be embedded in a written-out statement (:meth:`CompiledQuery.subquery`).
- A written-out statement, for what the ORM cannot express cheaply (data-modifying ``WITH``,
  additive upserts over ``unnest`` arrays). It lives in its app's ``statements.py`` as a module
  constant with named parameters (``%(session_id)s``); :func:`fetch_one` / :func:`fetch_all`
  map its rows **by column name** into a frozen dataclass, decoding JSON columns with the one
  decoder here (:func:`decode_json`). Each such statement has a test that runs it beside the
  ORM expression it stands for.

PostgreSQL is the only engine (embedded in development, real in tests and production), so
there are no vendor branches: id lists are one array parameter (``= ANY(%(ids)s)``).
Values are always parameters; only names taken from the models' ``_meta`` are interpolated.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.db import connection, connections
from django.db.models import Model, QuerySet

from apps.core.db_routing import read_alias

T = TypeVar("T")

# --- names ----------------------------------------------------------------------------------


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[Model]) -> str:
    """The model's quoted table name, for a statement's ``FROM``."""
    return quote(model._meta.db_table)


def model_columns(model: type[Model], alias: str, *, prefix: str) -> str:
    """``alias."col" AS "prefix.attname", ...`` for every concrete field of ``model``: what
    :func:`model_from_row` reads back by name."""
    return ", ".join(
        f"{alias}.{quote(str(f.column))} AS {quote(prefix + '.' + f.attname)}"
        for f in model._meta.concrete_fields
    )


# --- decoding -------------------------------------------------------------------------------


def decode_json(value: Any) -> Any:
    """A JSON column as a plain cursor returns it. Django registers psycopg's ``json``/``jsonb``
    loaders to hand back text (``JSONField.from_db_value`` parses it); read by hand, it is
    parsed here."""
    if isinstance(value, str | bytes | bytearray):
        return json.loads(value)
    return value


class _Mapping:
    """How one dataclass is filled from a row: its field names and the JSON fields among them
    (annotated ``list[...]``, ``dict[...]`` or :data:`Json`, optionally ``| None``)."""

    def __init__(self, into: type[Any]):
        if not dataclasses.is_dataclass(into):
            raise TypeError(f"{into!r} is not a dataclass")
        hints = typing.get_type_hints(into)
        self.into = into
        self.names = frozenset(f.name for f in dataclasses.fields(into))
        self.json_fields = frozenset(name for name in self.names if _is_json(hints[name]))


Json = typing.NewType("Json", object)
"""Annotation for a dataclass field holding a JSON column of any shape."""


def _is_json(hint: Any) -> bool:
    if hint is Json:
        return True
    origin = typing.get_origin(hint)
    if origin in (list, dict):
        return True
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_is_json(a) for a in typing.get_args(hint) if a is not type(None))
    return False


_mappings: dict[type[Any], _Mapping] = {}


def _mapping(into: type[Any]) -> _Mapping:
    found = _mappings.get(into)
    if found is None:
        found = _mappings[into] = _Mapping(into)
    return found


def _build(into: type[T], names: Sequence[str], row: Sequence[Any]) -> T:
    mapping = _mapping(into)
    values = dict(zip(names, row, strict=True))
    if values.keys() != mapping.names:
        missing, extra = mapping.names - values.keys(), values.keys() - mapping.names
        raise TypeError(f"{into.__name__}: columns differ (missing {missing}, extra {extra})")
    for name in mapping.json_fields:
        values[name] = decode_json(values[name])
    return into(**values)


# --- running statements ---------------------------------------------------------------------


def _names(cursor: Any) -> list[str]:
    return [d[0] for d in cursor.description]


def fetch_one(statement: str, params: Mapping[str, Any], into: type[T]) -> T | None:
    """The statement's first row as ``into`` (a dataclass whose fields are the columns), or
    ``None`` when it returns no row."""
    with connections[read_alias()].cursor() as cursor:  # the replica in a reading block
        cursor.execute(statement, params)
        row = cursor.fetchone()
        return None if row is None else _build(into, _names(cursor), row)


def fetch_all(statement: str, params: Mapping[str, Any], into: type[T]) -> list[T]:
    """Every row of the statement as ``into``."""
    with connections[read_alias()].cursor() as cursor:  # the replica in a reading block
        cursor.execute(statement, params)
        names = _names(cursor)
        return [_build(into, names, row) for row in cursor.fetchall()]


def fetch_rows(statement: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every row as a dict by column name, for rows read back into model instances
    (:func:`model_from_row`)."""
    with connections[read_alias()].cursor() as cursor:  # the replica in a reading block
        cursor.execute(statement, params)
        names = _names(cursor)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def execute(statement: str, params: Mapping[str, Any]) -> int:
    """Runs a write; returns the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount)


# --- model instances from named columns -----------------------------------------------------


class _Shape:
    def __init__(self, model: type[Model]):
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.pk_attname = model._meta.pk.attname if model._meta.pk else "id"
        self.converters: list[tuple[str, Any, list[Any]]] = []
        for field in self.fields:
            col = field.cached_col  # the expression the ORM's own converters are looked up for
            found = [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]
            if found:
                self.converters.append((field.attname, col, found))


_shapes: dict[type[Model], _Shape] = {}


def model_from_row(row: Mapping[str, Any], model: type[M], *, prefix: str) -> M | None:
    """The ``model`` instance held in ``row`` under :func:`model_columns` names, as a queryset
    would have built it (``Model.from_db``, the fields' converters applied); ``None`` when its
    primary key is NULL (an outer join that found nothing)."""
    shape = _shapes.get(model)
    if shape is None:
        shape = _shapes[model] = _Shape(model)
    if row[f"{prefix}.{shape.pk_attname}"] is None:
        return None
    values = {name: row[f"{prefix}.{name}"] for name in shape.attnames}
    for name, col, converters in shape.converters:
        for converter in converters:
            values[name] = converter(values[name], col, connection)
    return model.from_db(connection.alias, shape.attnames, [values[n] for n in shape.attnames])


M = TypeVar("M", bound=Model)


# --- ORM querysets compiled once ------------------------------------------------------------

_PLACEHOLDER = re.compile(r"(?<!%)%s")


class CompiledQuery:
    """A ``values()`` queryset compiled to SQL once per process, then run with new values.

    ``build`` makes the queryset from keyword arguments; ``samples`` gives one value per
    argument, each different from every constant the queryset holds (the compiled parameters
    equal to a sample become that argument; the others stay constants). The compile is checked:
    every argument must appear, and no compiled parameter may match two samples. A boolean
    lookup (``is_active=True``) compiles to SQL text, not a parameter, so it can only be a
    constant of the queryset, never an argument.

    Rows come back as dicts keyed by the ``values()`` names, through the ORM's own converters,
    so what a caller gets is what the queryset would have given it."""

    def __init__(self, build: Callable[..., QuerySet[Any]], **samples: Any):
        self._build = build
        self._samples = samples
        self._lock = threading.Lock()
        self._compiled: tuple[str, dict[str, Any], Any, list[str]] | None = None

    def queryset(self, **values: Any) -> QuerySet[Any]:
        """The queryset itself, for tests comparing it with the compiled form."""
        return self._build(**values)

    def _compile(self) -> tuple[str, dict[str, Any], Any, list[str]]:
        compiled = self._compiled
        if compiled is not None:
            return compiled
        with self._lock:
            if self._compiled is not None:
                return self._compiled
            query = self._build(**self._samples).query
            compiler = query.get_compiler(connection=connection)
            text, params = compiler.as_sql()
            pieces: list[str] = []
            constants: dict[str, Any] = {}
            placed: set[str] = set()
            for i, value in enumerate(params):
                matches = [k for k, v in self._samples.items() if _same(v, value)]
                if len(matches) > 1:
                    raise ValueError(f"compiled parameter {value!r} matches {matches}")
                if matches:
                    pieces.append(f"%({matches[0]})s")
                    placed.add(matches[0])
                elif (literal := _literal(value)) is not None:
                    # A constant of the queryset stays a constant: written into the text, the
                    # planner sees it under a generic plan too (a partial index on
                    # ``answered > 0`` is usable only when the 0 is in the statement).
                    pieces.append(literal)
                else:
                    pieces.append(f"%(_c{i})s")
                    constants[f"_c{i}"] = value
            unused = set(self._samples) - placed
            if unused:
                raise ValueError(f"arguments {sorted(unused)} do not reach the compiled query")
            counter = iter(pieces)
            text = _PLACEHOLDER.sub(lambda _m: next(counter), text)
            columns = [*query.extra_select, *query.values_select, *query.annotation_select]
            fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
            converters = compiler.get_converters(fields)  # looked up once, not per call
            self._compiled = (text, constants, (compiler, converters), columns)
            return self._compiled

    @property
    def sql(self) -> str:
        """The statement, with named parameters (arguments and ``_cN`` constants)."""
        return self._compile()[0]

    def params(self, **values: Any) -> dict[str, Any]:
        """The parameters for :attr:`sql`: the given values with the compiled constants."""
        _text, constants, _compiler, _columns = self._compile()
        return {**constants, **values}

    def subquery(self, *, prefix: str) -> tuple[str, dict[str, Any]]:
        """The SQL and constants to embed in a written-out statement; constants are renamed
        ``{prefix}_cN`` and arguments ``{prefix}_{name}`` so two embedded queries never clash."""
        text, constants, _compiler, _columns = self._compile()

        def rename(match: re.Match[str]) -> str:
            return f"%({prefix}_{match.group(1).lstrip('_')})s"

        renamed = re.sub(r"%\((\w+)\)s", rename, text)
        return renamed, {f"{prefix}_{k.lstrip('_')}": v for k, v in constants.items()}

    def fetch(self, **values: Any) -> list[dict[str, Any]]:
        text, constants, (compiler, converters), columns = self._compile()
        with connections[read_alias()].cursor() as cursor:  # the replica in a reading block
            cursor.execute(text, {**constants, **values})
            rows = cursor.fetchall()
        if not rows:
            return []
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def fetch_first(self, **values: Any) -> dict[str, Any] | None:
        rows = self.fetch(**values)
        return rows[0] if rows else None


def _literal(value: Any) -> str | None:
    """``value`` as SQL text, for the plain constants a queryset holds (booleans, integers,
    short strings); ``None`` for anything else, which stays a parameter."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str) and len(value) <= 64:
        # Standard SQL quoting; ``%`` doubled because the text still goes through the driver's
        # placeholder parsing.
        return "'" + str(value).replace("'", "''").replace("%", "%%") + "'"
    return None


def _same(sample: Any, value: Any) -> bool:
    """Equal and of the same type (``True == 1`` must not match), lists element-wise."""
    if type(sample) is not type(value):
        return False
    if isinstance(sample, list | tuple):
        return len(sample) == len(value) and all(
            _same(a, b) for a, b in zip(sample, value, strict=True)
        )
    return bool(sample == value)
