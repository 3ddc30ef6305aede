"""How the dataset's statements reach PostgreSQL: the tables by the models' names, bound on the
client.

Statements name tables as ``{user}``, ``{answerfact}``...: :func:`statement` fills them in from
the models' ``_meta.db_table`` (quoted by psycopg), so a renamed table cannot leave the
generator writing to the old name. A statement's own braces (a JSON literal) are doubled.
Statements that name no model table (the session's temporary tables) are plain strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model
from psycopg import ClientCursor, sql

from apps.accounts.models import Profile, User
from apps.analytics.models import (
    AnswerFact,
    CategoryProgress,
    DailyActivity,
    HeartbeatLog,
    LearnerState,
)
from apps.exams.models import ExamAnswer, ExamSession, ExamTemplateQuestion
from apps.practice.models import PracticeAttempt, PracticeSession, QuestionFlag, QuestionReport
from apps.questions.models import AnswerOption, Question, QuestionMedia
from apps.taxonomy.models import Category, Subcategory

MODELS: dict[str, type[Model]] = {
    "user": User,
    "profile": Profile,
    "category": Category,
    "subcategory": Subcategory,
    "question": Question,
    "answeroption": AnswerOption,
    "questionmedia": QuestionMedia,
    "question_tags": Question.tags.through,
    "practicesession": PracticeSession,
    "practiceattempt": PracticeAttempt,
    "questionflag": QuestionFlag,
    "questionreport": QuestionReport,
    "answerfact": AnswerFact,
    "dailyactivity": DailyActivity,
    "categoryprogress": CategoryProgress,
    "heartbeatlog": HeartbeatLog,
    "learnerstate": LearnerState,
    "examsession": ExamSession,
    "examanswer": ExamAnswer,
    "examtemplatequestion": ExamTemplateQuestion,
}

# Tables the dataset writes, for the row counts and sizes report and the final VACUUM.
REPORTED = (
    "user",
    "profile",
    "question",
    "answeroption",
    "practicesession",
    "practiceattempt",
    "answerfact",
    "dailyactivity",
    "categoryprogress",
    "learnerstate",
    "examsession",
    "examanswer",
)

Params = Sequence[Any] | Mapping[str, Any] | None


def table_name(key: str) -> str:
    """The unquoted table name of ``MODELS[key]`` (for ``regclass`` and report lines)."""
    return MODELS[key]._meta.db_table


def statement(text: str, **values: int | str) -> sql.Composed:
    """``text`` with every ``{table}`` placeholder (a key of :data:`MODELS`) replaced by that
    model's quoted table name. ``values`` fill other placeholders: a ``str`` is a key of
    :data:`MODELS` (a table chosen by the caller), an ``int`` a literal number."""
    fill: dict[str, sql.Composable] = {key: sql.Identifier(table_name(key)) for key in MODELS}
    for name, value in values.items():
        if isinstance(value, str):
            fill[name] = sql.Identifier(table_name(value))
        else:
            fill[name] = sql.Literal(int(value))
    return sql.SQL(text).format(**fill)


def cursor() -> ClientCursor[Any]:
    """A cursor that binds parameters on the client: the generator's statements pass untyped
    values in select lists (``SELECT %(hash)s, ...``), which server-side binding (the
    application's setting, config/settings/base.py) cannot type."""
    connection.ensure_connection()
    return ClientCursor(connection.connection)


def run(query: str | sql.Composed, params: Params = None) -> int:
    """Runs one statement (a ``str`` names no table); returns its row count."""
    with cursor() as c:
        c.execute(query, params)
        return c.rowcount


def scalar(query: str | sql.Composed, params: Params = None) -> Any:
    with cursor() as c:
        c.execute(query, params)
        row = c.fetchone()
    return row[0] if row else None


def rows(query: str | sql.Composed, params: Params = None) -> list[tuple[Any, ...]]:
    with cursor() as c:
        c.execute(query, params)
        return [tuple(row) for row in c.fetchall()]
