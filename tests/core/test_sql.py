"""apps/core/sql.py: written-out statements mapped by column name, and querysets compiled once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.db import connection

from apps.accounts.models import Profile, User
from apps.core import sql


@dataclass(frozen=True)
class _Shape:
    n: int
    tags: list[str]
    extra: dict[str, Any] | None
    payload: sql.Json
    at: datetime


STATEMENT = (
    'SELECT %(n)s::int AS n, \'["a", "b"]\'::jsonb AS tags, NULL::jsonb AS extra, '
    "'{\"k\": 1}'::json AS payload, now() AS at"
)


@pytest.mark.django_db
def test_rows_map_by_column_name_and_json_is_decoded_once() -> None:
    row = sql.fetch_one(STATEMENT, {"n": 7}, into=_Shape)
    assert row is not None
    assert (row.n, row.tags, row.extra, row.payload) == (7, ["a", "b"], None, {"k": 1})
    assert row.at.tzinfo is not None  # aware, as the ORM gives it
    # Column order does not matter, names do.
    reordered = "SELECT now() AS at, NULL::jsonb AS extra, '{}'::json AS payload, "
    reordered += "'[]'::jsonb AS tags, 1 AS n"
    assert sql.fetch_all(reordered, {}, into=_Shape)[0].tags == []


@pytest.mark.django_db
def test_a_statement_whose_columns_differ_from_the_result_type_fails_loudly() -> None:
    with pytest.raises(TypeError, match="missing"):
        sql.fetch_one("SELECT 1 AS n", {}, into=_Shape)
    assert sql.fetch_one("SELECT 1 AS n WHERE false", {}, into=_Shape) is None


@pytest.mark.django_db
def test_model_instances_are_rebuilt_by_column_name(user: User) -> None:
    statement = (
        f"SELECT {sql.model_columns(User, 'u', prefix='u')}, "  # noqa: S608
        f"{sql.model_columns(Profile, 'p', prefix='p')} FROM {sql.table(User)} u "
        f"LEFT JOIN {sql.table(Profile)} p ON p.user_id = u.id WHERE u.id = %(id)s"
    )
    (row,) = sql.fetch_rows(statement, {"id": user.pk})
    rebuilt = sql.model_from_row(row, User, prefix="u")
    assert rebuilt == user
    assert rebuilt is not None
    assert rebuilt.email == user.email
    assert not rebuilt._state.adding
    Profile.objects.filter(user=user).delete()
    (row,) = sql.fetch_rows(statement, {"id": user.pk})
    assert sql.model_from_row(row, Profile, prefix="p") is None  # the outer join found nothing


def _by_email(*, email: str, after: int) -> Any:
    return User.objects.filter(email=email, id__gt=after).values("id", "email", "date_joined")


@pytest.mark.django_db
def test_compiled_query_gives_what_the_queryset_gives(user: User, other_user: User) -> None:
    compiled = sql.CompiledQuery(_by_email, email="~sample~", after=-9_000_001)
    for email in (user.email, other_user.email, "nobody@example.com"):
        assert compiled.fetch(email=email, after=0) == list(_by_email(email=email, after=0))
    assert compiled.fetch(email=user.email, after=user.pk) == []
    text = compiled.sql
    compiled.fetch(email=user.email, after=0)
    assert compiled.sql is text  # compiled once


@pytest.mark.django_db
def test_id_lists_are_one_array_parameter(user: User, other_user: User) -> None:
    compiled = sql.CompiledQuery(
        lambda *, ids: User.objects.filter(id__any=ids).order_by("id").values("id"), ids=[-1]
    )
    assert "ANY(%(ids)s)" in compiled.sql
    assert [r["id"] for r in compiled.fetch(ids=[other_user.pk, user.pk])] == sorted(
        [user.pk, other_user.pk]
    )
    assert compiled.fetch(ids=[]) == []


def test_compiled_query_refuses_samples_it_cannot_place() -> None:
    unused = sql.CompiledQuery(
        lambda *, email, extra: _by_email(email=email, after=0), email="~a~", extra=5
    )
    with pytest.raises(ValueError, match="do not reach"):
        unused.sql  # noqa: B018
    # A boolean lookup compiles to text ("is_active" / NOT "is_active"), not a parameter.
    boolean = sql.CompiledQuery(
        lambda *, active: User.objects.filter(is_active=active).values("id"), active=False
    )
    with pytest.raises(ValueError, match="do not reach"):
        boolean.sql  # noqa: B018
    # A sample equal to a constant of the queryset would be ambiguous.
    clash = sql.CompiledQuery(
        lambda *, a, b: User.objects.filter(email=a, password=b).values("id"), a="~x~", b="~x~"
    )
    with pytest.raises(ValueError, match="matches"):
        clash.sql  # noqa: B018


@pytest.mark.django_db
def test_subquery_renames_parameters_so_two_embedded_queries_never_clash(user: User) -> None:
    compiled = sql.CompiledQuery(_by_email, email="~sample~", after=-9_000_001)
    text, constants = compiled.subquery(prefix="mine")
    assert "%(mine_email)s" in text
    assert "%(email)s" not in text
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM ({text}) x",  # noqa: S608
            {**constants, "mine_email": user.email, "mine_after": 0},
        )
        assert cursor.fetchone()[0] == 1
