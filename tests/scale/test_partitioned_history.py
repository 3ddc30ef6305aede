"""docs/partitioning.md checked against PostgreSQL and the application's own code: why the answer
log cannot be partitioned by ``answered_at`` without weakening exactly-once, and that partitioned
by session id (``RANGE (source_id)``, today's table attached whole) the unchanged constraint
keeps holding while practice, exams, the dashboard, analytics, item statistics and the GDPR
export and erasure work across partitions.

The conversion runs on this worker's test database (``tests/scale/partitioned_answer_log.py``)
and is undone at the end of each test, every row kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from apps.accounts.models import User
from apps.analytics.models import AnswerFact, AnswerSource
from apps.exams.models import ExamSession
from apps.quality.services.analysis import analyse_items
from apps.questions.grading import answer_keys
from apps.questions.learning import AnsweredQuestion, answer_recorder
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.conftest import client_for
from tests.exams.factories import blueprint_template, make_bank
from tests.exams.test_concurrency import run_together
from tests.scale.partitioned_answer_log import (
    LEGACY,
    TABLE,
    month_base,
    partition_of,
    partitioned_answer_log,
)
from tests.side_connection import side_connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FIRST_MONTH = (2026, 12)


@pytest.fixture
def side() -> Iterator[psycopg.Connection]:
    with side_connection() as conn:
        yield conn


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


@pytest.fixture
def exam_ids_from_first_month(side: psycopg.Connection) -> Iterator[None]:
    """Exam sessions numbered from the first monthly base (the Beat task's ``setval``)."""
    (sequence,) = side.execute(
        "SELECT pg_get_serial_sequence('exams_examsession', 'id')"
    ).fetchone() or ("",)
    (before,) = side.execute(f"SELECT last_value FROM {sequence}").fetchone() or (1,)  # noqa: S608
    side.execute("SELECT setval(%s, %s)", [sequence, month_base(*FIRST_MONTH)])
    yield
    side.execute("SELECT setval(%s, %s)", [sequence, before])


def test_across_partitions_the_key_holds_and_every_reader_sees_every_partition(
    side: psycopg.Connection, user: User, exam_ids_from_first_month: None
) -> None:
    first, second = make_bank(categories=2, per_category=3)
    practice_id = _practise_one(user, first.slug)  # before the conversion: the legacy table
    facts_before = _count(side, TABLE)
    assert facts_before == 1

    with partitioned_answer_log(side, first=FIRST_MONTH, months=2):
        assert _count(side, TABLE) == facts_before  # every row kept, none copied
        assert partition_of(side, source="practice", source_id=practice_id) == {LEGACY}

        # An exam in the first month's partition, submitted by two clients at once.
        template = blueprint_template({first: 2, second: 2})
        client = client_for(user)
        started = client.post("/api/v1/exams/sessions", {"template_id": template.id})
        assert started.status_code == 201, started.content
        session_id = started.json()["id"]
        assert session_id >= month_base(*FIRST_MONTH)
        question_ids = ExamSession.objects.get(id=session_id).question_ids
        keys = answer_keys(question_ids=question_ids)
        saved = client.post(
            f"/api/v1/exams/sessions/{session_id}/attempts",
            {
                "attempts": [
                    {"question_id": q, "selected_option_ids": keys[q]} for q in question_ids
                ]
            },
        )
        assert saved.status_code == 200, saved.content
        submitters = [client_for(user), client_for(user)]
        replies = run_together(
            [lambda c=c: c.post(f"/api/v1/exams/sessions/{session_id}/submit") for c in submitters]
        )
        assert [r.status_code for r in replies] == [200, 200]
        assert partition_of(side, source="exam", source_id=session_id) == {f"{TABLE}_202612"}
        assert _count(side, TABLE) == facts_before + len(question_ids)

        # The same answers recorded again, dated 40 days later (the next month): not one more
        # fact, and not one more in any aggregate.
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
        assert _count(side, TABLE) == facts_before + len(question_ids)
        assert client.get("/api/v1/analytics/overview").json() == stats_before

        # Every reader sees both partitions.
        total = facts_before + len(question_ids)
        assert stats_before["answered"] == total
        dashboard = client.get("/api/v1/dashboard").json()
        assert dashboard["performance"]["correct"] == total
        practice_question = AnswerFact.objects.get(source="practice").question_id
        analyse_items(question_ids=[practice_question, fact.question_id])
        for question_id in (practice_question, fact.question_id):
            stats = client_for(_editor()).get(f"/api/v1/staff/questions/{question_id}/stats")
            assert stats.status_code == 200, stats.content
            assert sum(v["n"] for v in stats.json()["versions"]) >= 1
        export = client.get("/api/v1/me/export")
        assert export.status_code == 200, export.content
        exported = {(a["source"], a["source_id"]) for a in export.json()["analytics"]["answers"]}
        assert exported == {("practice", practice_id), ("exam", session_id)}

        # Erasure reaches every partition.
        erased = client.delete("/api/v1/me", {"password": DEFAULT_PASSWORD})
        assert erased.status_code == 204, erased.content
        assert _count(side, TABLE) == 0
    assert _count(side, TABLE) == 0
    assert _count(side, "pg_inherits WHERE inhparent = 'analytics_answerfact'::regclass") == 0


def _editor() -> User:
    from apps.accounts.models import Role
    from tests.accounts.factories import UserFactory

    return UserFactory(role=Role.EDITOR, is_staff=True)


ROWS = f"SELECT id, user_id, source, source_id, question_id, answered_at FROM {TABLE} ORDER BY id"  # noqa: S608


def test_converting_and_back_keeps_every_row(side: psycopg.Connection, user: User) -> None:
    (category,) = make_bank(categories=1, per_category=3)
    practice_ids = [_practise_one(user, category.slug) for _ in range(3)]
    before = side.execute(ROWS).fetchall()
    with partitioned_answer_log(side, first=FIRST_MONTH, months=1):
        during = side.execute(ROWS).fetchall()
        assert during == before
        # New facts continue the numbering, so ids stay unique across partitions.
        later = _practise_one(user, category.slug)
        (top,) = side.execute(f"SELECT max(id) FROM {TABLE}").fetchone() or (0,)  # noqa: S608
        assert top > max(row[0] for row in before)
    after = side.execute(ROWS).fetchall()
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1
    assert {row[3] for row in after} == {*practice_ids, later}
    # Back to a plain table that numbers its own rows.
    _practise_one(user, category.slug)
    assert _count(side, TABLE) == len(before) + 2
