"""The answer histories partitioned by month of session (``apps/core/partitioning.py``,
docs/partitioning.md), checked against PostgreSQL and the application's own code.

Every test of the suite runs on partitioned histories (``tests/conftest.py`` converts each
worker's database with the migrations' own code). These tests show why the partition key is the
session and not the answer's time, that exactly-once still holds across partitions, that every
reader (dashboard, analytics, item statistics, GDPR export and erasure) sees every partition, that
Beat's task makes the months ahead and moves session ids into them, that converting back and
forth keeps every row, and that the real migrations do so on a database of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.models import AnswerFact, AnswerSource
from apps.core import partition_catalog, partitioning
from apps.core.partitioning import HISTORIES, SESSION_TABLES, month_base, month_of_base
from apps.core.tasks import analyze_history_partitions, prepare_history_partitions
from apps.exams.models import ExamAnswer, ExamSession
from apps.practice.models import PracticeAttempt
from apps.quality.services.analysis import analyse_items
from apps.questions.grading import answer_keys
from apps.questions.learning import AnsweredQuestion, answer_recorder
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.conftest import client_for
from tests.exams.factories import blueprint_template, make_bank
from tests.exams.test_concurrency import run_together
from tests.side_connection import side_connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TABLE = "analytics_answerfact"
LEGACY = partitioning.legacy_name(TABLE)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def side() -> Iterator[psycopg.Connection]:
    with side_connection() as conn:
        yield conn


def _sequence(side: psycopg.Connection, table: str) -> str:
    (sequence,) = side.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table]).fetchone() or (
        "",
    )
    return str(sequence)


@pytest.fixture
def session_sequences(side: psycopg.Connection) -> Iterator[dict[str, str]]:
    """The session sequences, put back where they were after the test."""
    sequences = {table: _sequence(side, table) for table in SESSION_TABLES}
    before = {
        table: (side.execute(f"SELECT last_value, is_called FROM {seq}").fetchone() or (1, False))  # noqa: S608
        for table, seq in sequences.items()
    }
    yield sequences
    for table, seq in sequences.items():
        side.execute("SELECT setval(%s, %s, %s)", [seq, *before[table]])


def _partition_of(side: psycopg.Connection, table: str, where: str, value: int) -> set[str]:
    rows = side.execute(
        f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE {where} = %s",  # noqa: S608
        [value],
    ).fetchall()
    return {name for (name,) in rows}


def _month_partition(table: str, session_id: int) -> str:
    return partitioning.partition_name(table, *month_of_base(session_id))


def test_partitioned_by_answered_at_the_once_per_session_key_is_refused_or_weakened(
    side: psycopg.Connection,
) -> None:
    """A unique key of a partitioned table must contain the partition key: by ``answered_at``,
    the four-column key is refused, and the five-column key it would have to become lets the
    same answer in twice when it is recorded with two times either side of a month's end."""
    side.execute(
        "CREATE TEMP TABLE by_time (user_id bigint, source text, source_id bigint, "
        "question_id bigint, answered_at timestamptz) PARTITION BY RANGE (answered_at)"
    )
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        side.execute("ALTER TABLE by_time ADD UNIQUE (user_id, source, source_id, question_id)")
    side.execute(
        "ALTER TABLE by_time ADD UNIQUE (user_id, source, source_id, question_id, answered_at)"
    )
    side.execute(
        "CREATE TEMP TABLE by_time_11 PARTITION OF by_time "
        "FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')"
    )
    side.execute(
        "CREATE TEMP TABLE by_time_12 PARTITION OF by_time "
        "FOR VALUES FROM ('2026-12-01') TO ('2027-01-01')"
    )
    for at in ("2026-11-30 23:59:59+00", "2026-12-01 00:00:01+00"):
        side.execute(
            "INSERT INTO by_time VALUES (1, 'exam', 7, 42, %s) ON CONFLICT DO NOTHING", [at]
        )
    (count,) = side.execute("SELECT count(*) FROM by_time").fetchone() or (0,)
    assert count == 2  # one answer, counted twice: what the session-id design rules out


def test_every_history_is_partitioned_with_its_names_and_the_session_ids_numbered_by_month(
    side: psycopg.Connection,
) -> None:
    """What the migrations leave: each history partitioned by its session column, its indexes and
    constraints under the names the models give them (so later migrations find them), this month's
    partition and three more ready, and session ids from this month's base."""
    today = timezone.localdate()
    for history, model in zip(HISTORIES, (AnswerFact, PracticeAttempt, ExamAnswer), strict=True):
        (key,) = side.execute(
            "SELECT pg_get_partkeydef(%s::regclass)", [history.table]
        ).fetchone() or ("",)
        assert key == f"RANGE ({history.key})"
        names = {
            name
            for (name,) in side.execute(
                "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass",
                [history.table],
            ).fetchall()
        }
        meta = model._meta
        declared = {index.name for index in meta.indexes} | {c.name for c in meta.constraints}
        declared -= {c.name for c in meta.constraints if c.__class__.__name__ == "CheckConstraint"}
        assert declared <= names, (history.table, declared - names)
        partitions = partitioning.partitions_of(connection.cursor(), history.table)
        assert partitions[0] == partitioning.legacy_name(history.table)
        year, month = today.year, today.month
        for _ in range(partitioning.MONTHS_AHEAD + 1):
            assert partitioning.partition_name(history.table, year, month) in partitions
            year, month = partitioning.next_month(year, month)
    for table in SESSION_TABLES:
        sequence = _sequence(side, table)
        (last,) = side.execute(f"SELECT last_value FROM {sequence}").fetchone() or (0,)  # noqa: S608
        assert last >= month_base(today.year, today.month)


def test_across_partitions_the_key_holds_and_every_reader_sees_every_partition(
    side: psycopg.Connection, user: User, session_sequences: dict[str, str]
) -> None:
    first, second = make_bank(categories=2, per_category=3)
    # A session from before the conversion: numbered below the first base, in the legacy range.
    side.execute("SELECT setval(%s, 1000)", [session_sequences["practice_practicesession"]])
    practice_id = _practise_one(user, first.slug)
    assert practice_id < month_base(2000, 1)
    assert _partition_of(side, TABLE, "source_id", practice_id) == {LEGACY}
    assert _partition_of(side, "practice_practiceattempt", "session_id", practice_id) == {
        "practice_practiceattempt_legacy"
    }
    prepare_history_partitions()  # Beat's task: session ids back at this month's base

    # An exam numbered in this month's range, submitted by two clients at once.
    template = blueprint_template({first: 2, second: 2})
    client = client_for(user)
    started = client.post("/api/v1/exams/sessions", {"template_id": template.id})
    assert started.status_code == 201, started.content
    session_id = started.json()["id"]
    today = timezone.localdate()
    assert session_id >= month_base(today.year, today.month)
    question_ids = ExamSession.objects.get(id=session_id).question_ids
    keys = answer_keys(question_ids=question_ids)
    saved = client.post(
        f"/api/v1/exams/sessions/{session_id}/attempts",
        {"attempts": [{"question_id": q, "selected_option_ids": keys[q]} for q in question_ids]},
    )
    assert saved.status_code == 200, saved.content
    assert _partition_of(side, "exams_examanswer", "session_id", session_id) == {
        _month_partition("exams_examanswer", session_id)
    }
    submitters = [client_for(user), client_for(user)]
    replies = run_together(
        [lambda c=c: c.post(f"/api/v1/exams/sessions/{session_id}/submit") for c in submitters]
    )
    assert [r.status_code for r in replies] == [200, 200]
    assert _partition_of(side, TABLE, "source_id", session_id) == {
        _month_partition(TABLE, session_id)
    }
    assert AnswerFact.objects.count() == 1 + len(question_ids)  # scored once

    # The same answers recorded again, dated 40 days later (the next month): not one more fact,
    # and not one more in any aggregate.
    stats_before = client.get("/api/v1/analytics/overview").json()
    fact = AnswerFact.objects.filter(source="exam", source_id=session_id).first()
    assert fact is not None
    answer_recorder.get()(
        answers=[
            AnsweredQuestion(
                user_id=user.pk,
                question_id=fact.question_id,
                category_id=fact.category_id,
                is_correct=fact.is_correct,
                time_spent_sec=fact.time_spent_sec,
                answered_at=fact.answered_at + timedelta(days=40),
                source=AnswerSource.EXAM,
                source_id=session_id,
                question_version=fact.question_version,
            )
        ]
    )
    assert AnswerFact.objects.count() == 1 + len(question_ids)
    assert client.get("/api/v1/analytics/overview").json() == stats_before

    # Every reader sees both partitions.
    total = 1 + len(question_ids)
    assert stats_before["answered"] == total
    dashboard = client.get("/api/v1/dashboard").json()
    assert dashboard["performance"]["correct"] == total
    practice_question = AnswerFact.objects.get(source="practice").question_id
    analyse_items(question_ids=[practice_question, fact.question_id])
    for question_id in (practice_question, fact.question_id):
        stats = client_for(_editor()).get(f"/api/v1/staff/questions/{question_id}/stats")
        assert stats.status_code == 200, stats.content
        assert sum(v["n"] for v in stats.json()["versions"]) >= 1
    review = client.get(f"/api/v1/exams/sessions/{session_id}/review")
    assert review.status_code == 200, review.content
    export = client.get("/api/v1/me/export")
    assert export.status_code == 200, export.content
    exported = {(a["source"], a["source_id"]) for a in export.json()["analytics"]["answers"]}
    assert exported == {("practice", practice_id), ("exam", session_id)}

    # Erasure reaches every partition of every history.
    erased = client.delete("/api/v1/me", {"password": DEFAULT_PASSWORD})
    assert erased.status_code == 204, erased.content
    for history in HISTORIES:
        assert _count(side, history.table) == 0


def test_beat_makes_the_months_ahead_then_numbers_sessions_in_them(
    side: psycopg.Connection, user: User, session_sequences: dict[str, str]
) -> None:
    """Beat's task in a later month: that month's partitions and three more for every history,
    then the session ids moved to its base; sessions opened then land in its partitions; a second
    run changes nothing."""
    (category,) = make_bank(categories=1, per_category=3)
    later = date(2031, 5, 17)
    try:
        first = partitioning.prepare_partitions(connection, today=later)
        expected = {
            partitioning.partition_name(h.table, 2031, month)
            for h in HISTORIES
            for month in (5, 6, 7, 8)
        }
        assert set(first["partitions_created"]) == expected
        assert set(first["sequences_moved"]) == set(SESSION_TABLES)
        practice_id = _practise_one(user, category.slug)
        assert month_of_base(practice_id) == (2031, 5)
        assert _partition_of(side, TABLE, "source_id", practice_id) == {f"{TABLE}_p203105"}
        assert _partition_of(side, "practice_practiceattempt", "session_id", practice_id) == {
            "practice_practiceattempt_p203105"
        }
        again = partitioning.prepare_partitions(connection, today=later)
        assert again == {
            "partitions_created": [],
            "partitions_deferred": [],
            "sequences_moved": [],
        }
        # Never backwards: an earlier day moves no sequence.
        assert partitioning.prepare_partitions(connection)["sequences_moved"] == []
    finally:
        AnswerFact.objects.all().delete()
        PracticeAttempt.objects.all().delete()
        for name in sorted(expected):
            side.execute(f"DROP TABLE IF EXISTS {name}")


def test_a_busy_table_defers_its_partition_and_no_session_id_moves_into_a_missing_one(
    side: psycopg.Connection, session_sequences: dict[str, str]
) -> None:
    """Creating a partition must lock its parent against every read, and a lock request that
    waits makes every later answer wait behind it. While a long read holds the answer log, Beat's
    run gives up on it after its lock timeout (the other histories get their months), and the
    session ids stay where they are, so no session can be numbered into a month whose answer-log
    partition does not exist. The next run, the read over, completes it."""
    later = date(2031, 5, 17)
    expected = {
        partitioning.partition_name(h.table, 2031, month)
        for h in HISTORIES
        for month in (5, 6, 7, 8)
    }
    reader = side_connection()
    reader.autocommit = False
    with connection.cursor() as cursor:  # were the timeout ignored, fail rather than hang
        cursor.execute("SET statement_timeout = 20000")
    try:
        reader.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608  # held until the commit
        busy = partitioning.prepare_partitions(connection, today=later, lock_timeout_ms=100)
        assert busy["partitions_deferred"] == [f"{TABLE}_p203105"]
        assert {n for n in busy["partitions_created"] if n.startswith(TABLE)} == set()
        assert set(busy["partitions_created"]) == {n for n in expected if not n.startswith(TABLE)}
        assert busy["sequences_moved"] == []
        reader.commit()
        done = partitioning.prepare_partitions(connection, today=later, lock_timeout_ms=100)
        assert set(done["partitions_created"]) == {n for n in expected if n.startswith(TABLE)}
        assert done["partitions_deferred"] == []
        assert set(done["sequences_moved"]) == set(SESSION_TABLES)
    finally:
        reader.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
        for name in sorted(expected):
            side.execute(f"DROP TABLE IF EXISTS {name}")


def test_a_schema_change_gives_up_waiting_and_tries_again_rather_than_queue_every_answer(
    side: psycopg.Connection,
) -> None:
    """The conversion's short transaction runs with a lock timeout: behind a long read it gives
    up, pauses and tries again, and fails only once its attempts are spent."""
    side.execute("CREATE TABLE busy_history (id bigint)")
    reader = side_connection()
    reader.autocommit = False
    changes = 0

    def change(cursor: CursorWrapper) -> None:
        nonlocal changes
        changes += 1
        cursor.execute(f"ALTER TABLE busy_history ADD COLUMN c{changes} integer")

    try:
        reader.execute("SELECT count(*) FROM busy_history")
        with pytest.raises(OperationalError):
            partition_catalog.run_with_lock_retries(
                connection, change, what="test", attempts=2, timeout_ms=50
            )
        assert changes == 2
        reader.commit()
        partition_catalog.run_with_lock_retries(
            connection, change, what="test", attempts=2, timeout_ms=50
        )
        columns = {
            name
            for (name,) in side.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'busy_history'::regclass "
                "AND attnum > 0"
            ).fetchall()
        }
        assert columns == {"id", "c3"}  # the two that timed out were rolled back
    finally:
        reader.close()
        side.execute("DROP TABLE IF EXISTS busy_history")


def test_the_nightly_task_gathers_the_statistics_of_every_history_as_a_whole(
    side: psycopg.Connection, user: User
) -> None:
    """Autovacuum never analyses a partitioned parent: the task does, so the planner knows the
    whole tree (here: the learner's facts and attempts in this month's partition)."""
    (category,) = make_bank(categories=1, per_category=3)
    _practise_one(user, category.slug)
    tables = [h.table for h in HISTORIES]
    before = _last_analyze(side, tables)
    assert analyze_history_partitions() == tables
    after = _last_analyze(side, tables)
    for table in tables:
        analysed, earlier = after[table], before[table]
        assert analysed is not None, table
        assert earlier is None or analysed > earlier, table
    # The tree's statistics, on the partition keys of the histories that hold rows.
    inherited = {
        (table, column)
        for table, column in side.execute(
            "SELECT tablename, attname FROM pg_stats WHERE inherited AND tablename = ANY(%s)",
            [tables],
        ).fetchall()
    }
    assert {(TABLE, "source_id"), ("practice_practiceattempt", "session_id")} <= inherited


def _last_analyze(side: psycopg.Connection, tables: list[str]) -> dict[str, datetime | None]:
    rows = side.execute(
        "SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname = ANY(%s)", [tables]
    ).fetchall()
    found: dict[str, datetime | None] = dict(rows)
    return {table: found.get(table) for table in tables}


ROWS = {
    TABLE: "SELECT id, user_id, source, source_id, question_id, answered_at",
    "practice_practiceattempt": "SELECT id, session_id, question_id, is_correct",
    "exams_examanswer": "SELECT id, session_id, question_id, selected_option_ids",
}


def _rows(side: psycopg.Connection) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: side.execute(f"{columns} FROM {table} ORDER BY id").fetchall()
        for table, columns in ROWS.items()
    }


def _index_names(side: psycopg.Connection, table: str) -> set[str]:
    return {
        name
        for (name,) in side.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass",
            [table],
        ).fetchall()
    }


def test_reverting_and_converting_again_keeps_every_row(
    side: psycopg.Connection, user: User, session_sequences: dict[str, str]
) -> None:
    first, second = make_bank(categories=2, per_category=3)
    side.execute("SELECT setval(%s, 1000)", [session_sequences["practice_practicesession"]])
    _practise_one(user, first.slug)  # legacy range
    prepare_history_partitions()
    _practise_one(user, first.slug)  # this month's range
    template = blueprint_template({first: 1, second: 1})
    client = client_for(user)
    session_id = client.post("/api/v1/exams/sessions", {"template_id": template.id}).json()["id"]
    question_ids = ExamSession.objects.get(id=session_id).question_ids
    saved = client.post(
        f"/api/v1/exams/sessions/{session_id}/attempts",
        {"attempts": [{"question_id": q, "selected_option_ids": []} for q in question_ids]},
    )
    assert saved.status_code == 200, saved.content
    assert client.post(f"/api/v1/exams/sessions/{session_id}/submit").status_code == 200
    before = _rows(side)
    assert all(before.values())
    names = {h.table: _index_names(side, h.table) for h in HISTORIES}
    try:
        partitioning.revert_all(connection)
        for history in HISTORIES:
            assert not partitioning.is_partitioned(connection.cursor(), history.table)
            assert _index_names(side, history.table) == names[history.table] | {
                f"{history.table}_pkey"
            }
        assert _rows(side) == before
        # A plain table numbering its own rows again, after the highest id.
        _practise_one(user, second.slug)
        (top,) = side.execute(f"SELECT max(id) FROM {TABLE}").fetchone() or (0,)  # noqa: S608
        assert top > max(row[0] for row in before[TABLE])  # type: ignore[type-var]
    finally:
        partitioning.convert_all(connection)
    after = _rows(side)
    for table, rows in before.items():
        assert after[table][: len(rows)] == rows
    for history in HISTORIES:
        assert partitioning.is_partitioned(connection.cursor(), history.table)
        assert _index_names(side, history.table) == names[history.table]
    # New facts continue the numbering across the conversion.
    _practise_one(user, second.slug)
    ids = [row[0] for row in _rows(side)[TABLE]]
    assert len(ids) == len(set(ids)) == len(before[TABLE]) + 2


def _manage(database_url: str, *args: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    done = subprocess.run(  # nosec B603 # our own manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


BEFORE_PARTITIONS = (("analytics", "0006"), ("practice", "0003"), ("exams", "0004"))


def test_the_migrations_convert_todays_tables_and_back_keeping_every_row(
    side: psycopg.Connection,
) -> None:
    """``manage.py migrate`` on a database of its own: today's plain tables with rows, then the
    partitioning migrations, then back."""
    db = connection.settings_dict
    name = f"{db['NAME']}_migrations"
    side.execute(f'DROP DATABASE IF EXISTS "{name}"')
    side.execute(f'CREATE DATABASE "{name}"')
    server = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    url = f"postgres://{db['USER'] or 'postgres'}@{server}/{name}"
    try:
        _manage(url, "migrate", "--no-input")
        _manage(url, "seed")  # a user and the categories the facts point at
        for app, migration in BEFORE_PARTITIONS:
            _manage(url, "migrate", app, migration, "--no-input")
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM pg_partitioned_table").fetchone() == (0,)
            (category,) = conn.execute("SELECT min(id) FROM taxonomy_category").fetchone() or (
                None,
            )
            (user_id,) = conn.execute("SELECT min(id) FROM accounts_user").fetchone() or (None,)
            assert category is not None
            assert user_id is not None
            conn.execute(
                "INSERT INTO analytics_answerfact (user_id, question_id, category_id, source, "
                "source_id, is_correct, time_spent_sec, counted_time_sec, answered_at, "
                "local_date, question_version) "
                "SELECT %s, q, %s, 'practice', q / 10, q %% 3 = 0, 30, 30, "
                "now() - q * interval '1 hour', current_date, 1 FROM generate_series(1, 500) q",
                [user_id, category],
            )
            facts = conn.execute("SELECT * FROM analytics_answerfact ORDER BY id").fetchall()
        for app, _migration in BEFORE_PARTITIONS:
            _manage(url, "migrate", app, "--no-input")
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM pg_partitioned_table").fetchone() == (3,)
            assert (
                conn.execute("SELECT * FROM analytics_answerfact ORDER BY id").fetchall() == facts
            )
            (where,) = conn.execute(
                "SELECT array_agg(DISTINCT tableoid::regclass::text) FROM analytics_answerfact"
            ).fetchone() or ([],)
            assert where == ["analytics_answerfact_legacy"]  # kept where it was, not copied
        _manage(url, "migrate", "analytics", "0006", "--no-input")
        with psycopg.connect(url, autocommit=True) as conn:
            assert (
                conn.execute("SELECT * FROM analytics_answerfact ORDER BY id").fetchall() == facts
            )
            assert conn.execute(
                "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = "
                "'analytics_answerfact'::regclass"
            ).fetchone() == (0,)
    finally:
        side.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _practise_one(user: User, category_slug: str) -> int:
    client = client_for(user)
    session = client.post(
        "/api/v1/practice/sessions", {"categories": [category_slug], "question_count": 1}
    )
    assert session.status_code == 201, session.content
    question_id = session.json()["question_ids"][0]
    answered = client.post(
        f"/api/v1/practice/sessions/{session.json()['id']}/attempts",
        {
            "question_id": question_id,
            "selected_option_ids": answer_keys(question_ids=[question_id])[question_id],
            "time_spent_sec": 30,
        },
    )
    assert answered.status_code == 201, answered.content
    return int(session.json()["id"])


def _count(side: psycopg.Connection, table: str) -> int:
    (count,) = side.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,)  # noqa: S608
    return int(count)


def _editor() -> User:
    from apps.accounts.models import Role
    from tests.accounts.factories import UserFactory

    return UserFactory(role=Role.EDITOR, is_staff=True)
