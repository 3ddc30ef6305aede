"""The uncached dashboard costs the same for a learner with a year of history as for a new one.

Not a clock measure: every statement of a dashboard miss is run under ``EXPLAIN ANALYZE`` for a
learner with a few days of history and for one with a year of it (365 days of activity,
thousands of answers, hundreds of practice sessions, exams and old devices), and the rows each
plan reads must be the same. Both plans PostgreSQL can run are checked: the *custom* plan made
for the values given, and the *generic* plan a connection switches to once it has run a
prepared statement a few times (``prepare_threshold`` in config/settings/base.py), which cannot
use a partial index whose condition it cannot prove from the parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from psycopg import sql as pgsql

from apps.accounts.models import AuthSession, User
from apps.analytics.caching import invalidate_user_caches
from apps.analytics.models import AnswerFact, DailyActivity
from apps.dashboard.selectors import featured_resources
from apps.exams.models import ExamSession
from apps.exams.services import (
    AnswerInput,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
)
from apps.practice.models import PracticeSession
from apps.practice.services import create_practice_session, record_practice_answer
from apps.questions.grading import answer_keys
from apps.questions.models import Question
from apps.taxonomy.models import Category
from apps.taxonomy.selectors import active_category_rows
from tests.analytics.helpers import answer, next_session_id, publish
from tests.conftest import client_for
from tests.exams.factories import fixed_template
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

DASHBOARD = "/api/v1/dashboard"
YEAR = 365


def _recent(user: User, questions: list[Question]) -> None:
    """What both learners did this week: a practice session, an exam and a batch of answers in
    every category."""
    session = create_practice_session(user=user, question_count=2)
    for qid in session.question_ids:
        record_practice_answer(
            user=user,
            session_id=session.pk,
            question_id=qid,
            selected_option_ids=answer_keys(question_ids=[qid])[qid],
        )
    template = fixed_template(questions[:3], name=f"Mock for {user.pk}")
    exam = start_exam_session(user=user, template_id=template.pk).session
    save_exam_answers(
        user=user,
        session_id=exam.pk,
        answers=[AnswerInput(question_id=exam.question_ids[0], selected_option_ids=[])],
    )
    submit_exam_session(session_id=exam.pk, user=user)
    sid = next_session_id()
    publish(*(answer(user, q, correct=i % 4 != 0, session_id=sid) for i, q in enumerate(questions)))


def _a_year_before(user: User, questions: list[Question]) -> None:
    """A year of history before this week, written in bulk: a day of activity every day, 3,000
    answers, 600 practice sessions, 150 submitted exams and 200 old devices."""
    now = timezone.now()
    start = now - timedelta(days=YEAR + 14)
    DailyActivity.objects.bulk_create(
        DailyActivity(
            user=user,
            date=(start + timedelta(days=d)).date(),
            answered=20,
            correct=15,
            time_spent_sec=600,
            reading_sec=60,
        )
        for d in range(YEAR)
    )
    AnswerFact.objects.bulk_create(
        AnswerFact(
            user=user,
            question_id=q.pk,
            category_id=q.category_id,
            source="practice",
            source_id=-1 - i // len(questions),
            is_correct=i % 3 != 0,
            time_spent_sec=30,
            counted_time_sec=30,
            answered_at=start + timedelta(minutes=150 * i),
            local_date=(start + timedelta(minutes=150 * i)).date(),
        )
        for i, q in ((i, questions[i % len(questions)]) for i in range(3000))
    )
    category_ids = [q.category_id for q in questions]
    PracticeSession.objects.bulk_create(
        PracticeSession(
            user=user,
            seed=i,
            config={},
            question_ids=[q.pk for q in questions[:5]],
            requested_count=5,
            available_count=5,
            answered=5,
            correct=3,
            time_spent_sec=150,
            category_ids=category_ids,
            created_at=start + timedelta(hours=14 * i),
            last_activity_at=start + timedelta(hours=14 * i, minutes=10),
            completed_at=start + timedelta(hours=14 * i, minutes=10),
        )
        for i in range(600)
    )
    template = fixed_template(questions[:3], name=f"Old mock for {user.pk}")
    ExamSession.objects.bulk_create(
        ExamSession(
            user=user,
            template=template,
            question_ids=[q.pk for q in questions[:3]],
            option_order={},
            seed=i,
            started_at=start + timedelta(days=2 * i),
            expires_at=start + timedelta(days=2 * i, hours=1),
            submitted_at=start + timedelta(days=2 * i, minutes=40),
            status="submitted",
            score_percent=60,
            correct=2,
            answered=3,
            time_spent_sec=2400,
        )
        for i in range(150)
    )
    AuthSession.objects.bulk_create(
        AuthSession(
            user=user,
            refresh_jti=f"old-{user.pk}-{i}",
            created_at=start + timedelta(days=i),
            last_used_at=start + timedelta(days=i),
            expires_at=start + timedelta(days=i + 14),
            revoked_at=start + timedelta(days=i, hours=1) if i % 2 else None,
        )
        for i in range(200)
    )


def _everyone_else_this_fortnight(learners: int = 300) -> None:
    """Most of the table is other learners' last two weeks (as on a live site, where most
    learners are recent): PostgreSQL then takes "this week" for most of anyone's days, and
    would rather read a learner's whole history by an index on the learner alone."""
    users = User.objects.bulk_create(
        User(email=f"crowd-{i}@example.com", password="!") for i in range(learners)
    )
    today = timezone.now().date()
    DailyActivity.objects.bulk_create(
        DailyActivity(user=u, date=today - timedelta(days=d), answered=10, correct=7)
        for u in users
        for d in range(14)
    )


def _miss(user: User) -> list[tuple[str, Any]]:
    """The statements of the learner's uncached dashboard, as handed to the cursor."""
    client = client_for(user)
    assert client.get(DASHBOARD).status_code == 200  # first use: anything lazily compiled
    invalidate_user_caches(user_ids=[user.pk])
    statements: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    body = response.json()
    assert body["recent_activity"]["last_practice"] is not None
    assert body["recent_activity"]["last_exam"] is not None
    return statements


_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s|%s")


def _prepared(statement: str, params: Any) -> tuple[str, list[Any]]:
    """``statement`` with ``$n`` placeholders (for ``PREPARE``) and its values in order."""
    values: list[Any] = []
    numbers: dict[str, int] = {}
    positional = iter(params or ())

    def number(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        if match.group(1) is None:
            values.append(next(positional))
            return f"${len(values)}"
        name = match.group(1)
        if name not in numbers:
            values.append(params[name])
            numbers[name] = len(values)
        return f"${numbers[name]}"

    return _PLACEHOLDER.sub(number, statement), values


@contextmanager
def _planning(mode: str) -> Iterator[None]:
    """Plans made as on a production database: ``mode`` (custom or generic), and no sequential
    scan where an index can serve (this test's tables are small enough to be read whole; a
    production table of every learner's rows is not)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET plan_cache_mode = {mode}")
        cursor.execute("SET enable_seqscan = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET plan_cache_mode")
            cursor.execute("RESET enable_seqscan")


def _explain(statement: str, params: Any, mode: str, *, json: bool = False) -> Any:
    """``EXPLAIN ANALYZE`` of ``statement`` run as a prepared statement under ``mode``: the
    plan's root node (``json``) or its text."""
    text, values = _prepared(statement, params)
    raw = connection.connection
    literals = ", ".join(pgsql.Literal(v).as_string(raw) for v in values)
    execute = f"EXECUTE dashboard_cost({literals})" if values else "EXECUTE dashboard_cost"
    with _planning(mode), connection.cursor() as cursor:
        cursor.execute(f"PREPARE dashboard_cost AS {text}")
        try:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT {'JSON' if json else 'TEXT'}) {execute}")
            rows = cursor.fetchall()
        finally:
            cursor.execute("DEALLOCATE dashboard_cost")
    if not json:
        return "\n".join(row[0] for row in rows)
    document = rows[0][0]
    return (document if isinstance(document, list) else [document])[0]["Plan"]


def _rows_read(node: Mapping[str, Any]) -> int:
    """Table rows the plan's scans read, kept or filtered out (a bitmap's index pass is
    counted by its heap scan)."""
    own = 0
    if "Scan" in node["Node Type"] and node["Node Type"] != "Bitmap Index Scan":
        kept = node.get("Actual Rows", 0)
        dropped = node.get("Rows Removed by Filter", 0) + node.get(
            "Rows Removed by Index Recheck", 0
        )
        own = (kept + dropped) * node.get("Actual Loops", 1)
    children: Sequence[Mapping[str, Any]] = node.get("Plans", ())
    return own + sum(_rows_read(child) for child in children)


def test_an_uncached_dashboard_reads_no_more_for_a_year_of_history(
    user: User, other_user: User, categories: list[Category]
) -> None:
    questions = [make_question(categories[i % len(categories)]) for i in range(12)]
    new, veteran = user, other_user
    _a_year_before(veteran, questions)
    _everyone_else_this_fortnight()
    # Statistics as a production database has them: gathered before this week's activity, so
    # the planner does not know how few rows "this week" holds.
    with connection.cursor() as cursor:
        for model in (DailyActivity, AnswerFact, PracticeSession, ExamSession, AuthSession):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    _recent(new, questions)
    _recent(veteran, questions)
    featured_resources()  # shared by everyone and cached: not part of a learner's cost
    active_category_rows()  # likewise

    short, long = _miss(new), _miss(veteran)
    assert [s for s, _ in short] == [s for s, _ in long]
    # The token's user and session; the learner's version; progress per category; the two
    # weeks' study time; the last practice; the last exam; the stored ranking; the dismissals;
    # today's block (the cards, the day's answers and new cards, the streak; the bank's size is
    # read once a minute per process, not per learner).
    assert len(short) == 12

    for (statement, few), (_same, many) in zip(short, long, strict=True):
        for mode in ("force_custom_plan", "force_generic_plan"):
            small = _explain(statement, few, mode, json=True)
            large = _explain(statement, many, mode, json=True)
            # A row or two of slack (an incremental sort reads one row past the first); a read
            # that grew with the history would read the veteran's hundreds of rows.
            assert _rows_read(large) <= _rows_read(small) + 5, "\n".join(
                [mode, _explain(statement, few, mode), _explain(statement, many, mode)]
            )
