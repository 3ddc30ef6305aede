"""Archiving old months of the answer log: the first attempts stay, the rest leaves for an
anonymised file, and nothing a learner or an editor sees changes (aggregates, first attempts,
the rebuild), whatever the month."""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services import account
from apps.analytics import first_attempts
from apps.analytics.models import (
    AnswerFact,
    ArchivedActivity,
    ArchivedMonth,
    ArchivedProgress,
    CategoryProgress,
    DailyActivity,
)
from apps.analytics.services import archiving, recompute_aggregates
from apps.core import partitioning
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.analytics.helpers import answer, publish
from tests.conftest import client_for
from tests.questions.factories import make_question
from tests.scale.test_partitioned_history import session_sequences  # noqa: F401
from tests.side_connection import side_connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TABLE = "analytics_answerfact"
LEGACY = partitioning.legacy_name(TABLE)
LATER = date(2030, 6, 15)  # "today" for the plan: the cut below is old enough
CUT = date(2029, 1, 1)


@pytest.fixture
def side() -> Iterator[psycopg.Connection]:
    with side_connection() as conn:
        yield conn


@pytest.fixture
def history(user: User, other_user: User) -> dict[str, Any]:
    """Two learners' answers in the legacy range (sessions numbered before the conversion):
    first attempts, repeats in the same session range and across two days and categories."""
    questions = [make_question() for _ in range(3)]
    start = timezone.now() - timedelta(days=40)
    session = iter(range(10, 1000))
    for learner in (user, other_user):
        for day in range(3):
            publish(
                *(
                    answer(
                        learner,
                        q,
                        correct=(day + i) % 2 == 0,
                        at=start + timedelta(days=day, minutes=i),
                        session_id=next(session),
                    )
                    for i, q in enumerate(questions)
                )
            )
    return {"questions": questions}


def _snapshot() -> dict[str, Any]:
    ids = list(AnswerFact.objects.values_list("question_id", flat=True).distinct())
    return {
        "days": sorted(
            DailyActivity.objects.values_list(
                "user_id", "date", "answered", "correct", "time_spent_sec"
            )
        ),
        "progress": sorted(
            CategoryProgress.objects.values_list(
                "user_id", "category_id", "answered", "correct", "last_practiced_at"
            )
        ),
        "firsts": sorted(first_attempts.first_attempt_rows(question_ids=ids, up_to_fact_id=10**15)),
    }


def _legacy(months: list[archiving.MonthPlan]) -> archiving.MonthPlan:
    (month,) = [m for m in months if m.partition == LEGACY]
    return month


def test_a_month_leaves_the_log_and_nothing_anyone_sees_changes(
    history: dict[str, Any], user: User, tmp_path: Path
) -> None:
    before = _snapshot()
    total = AnswerFact.objects.count()
    month = _legacy(archiving.plan(before=CUT, today=LATER))
    assert month.refused is None
    assert (month.rows, month.repeats) == (18, 12)  # 2 learners x 3 questions first, 12 repeats

    row = archiving.archive_month(month, directory=tmp_path)

    assert AnswerFact.objects.count() == total - 12
    assert (row.rows_before, row.rows_kept, row.rows_archived) == (18, 6, 12)
    after = _snapshot()
    assert after == before  # aggregates and first attempts, exactly
    # The rebuild adds the archived totals back: a rebuild changes nothing.
    assert recompute_aggregates().changed == 0
    assert _snapshot() == before
    assert ArchivedActivity.objects.filter(user=user).exists()
    assert ArchivedProgress.objects.filter(user=user).exists()
    # The file: anonymised, every archived answer, its digest recorded.
    path = Path(row.file)
    assert path.exists()
    assert not path.with_suffix(".partial").exists()
    with gzip.open(path) as archived:
        content = archived.read()
    assert hashlib.sha256(content).hexdigest() == row.sha256
    rows = list(csv.reader(StringIO(content.decode())))
    assert rows[0] == list(archiving.ARCHIVED_COLUMNS)
    assert len(rows) == 13
    assert "user_id" not in rows[0]
    assert "source_id" not in rows[0]
    # The log is still partitioned the same way, and still records exactly once.
    assert LEGACY in partitioning.partitions_of(connection.cursor(), TABLE)
    # The compact partition came with its indexes: each attached to the parent's, none built
    # twice (the attach found them all).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x.indexrelid::regclass::text, x.indisprimary, "
            "EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = x.indexrelid) "
            "FROM pg_index x WHERE x.indrelid = %s::regclass",
            [LEGACY],
        )
        indexes = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [TABLE])
        (parent_indexes,) = cursor.fetchone()
    assert [name for name, primary, attached in indexes if not primary and not attached] == []
    assert len(indexes) == parent_indexes + 1  # and its own primary key
    late = answer(user, history["questions"][0], session_id=5)
    publish(late)
    publish(late)
    assert AnswerFact.objects.filter(source_id=5).count() == 1
    # Planned again: already archived.
    assert _legacy(archiving.plan(before=CUT, today=LATER)).refused == "already archived"


def test_months_still_in_use_or_too_recent_are_refused(
    history: dict[str, Any], user: User, tmp_path: Path
) -> None:
    recent = archiving.plan(before=CUT, today=CUT + timedelta(days=200))
    assert _legacy(recent).refused == "the cut is less than 12 months old"
    # An answer after the cut in an old session: its month is not over.
    publish(answer(user, history["questions"][1], at=timezone.now(), session_id=7))
    in_use = archiving.plan(before=timezone.localdate().replace(day=1), today=LATER)
    assert (_legacy(in_use).refused or "").startswith("answered as late as")
    assert ArchivedMonth.objects.count() == 0


def test_erasure_takes_the_archived_totals_and_the_export_shows_them(
    history: dict[str, Any], user: User, tmp_path: Path
) -> None:
    archiving.archive_month(_legacy(archiving.plan(before=CUT, today=LATER)), directory=tmp_path)
    assert ArchivedActivity.objects.filter(user=user).exists()
    exported = client_for(user).get("/api/v1/me/export")
    assert exported.status_code == 200
    archived = exported.json()["analytics"]["archived_answers"]
    assert sum(day["answered"] for day in archived["per_day"]) == 6  # the user's 6 repeats
    assert sum(c["answered"] for c in archived["per_category"]) == 6
    account.delete_account(user=user, password=DEFAULT_PASSWORD)
    assert not ArchivedActivity.objects.filter(user_id=user.pk).exists()
    assert not ArchivedProgress.objects.filter(user_id=user.pk).exists()


def test_a_failed_check_leaves_everything_as_it_was(
    history: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot()
    total = AnswerFact.objects.count()
    month = _legacy(archiving.plan(before=CUT, today=LATER))
    monkeypatch.setattr(archiving, "ARCHIVED_COLUMNS", ("question_id", "'x\ny'"))
    with pytest.raises(RuntimeError, match="the file holds"):
        archiving.archive_month(month, directory=tmp_path)
    assert AnswerFact.objects.count() == total
    assert _snapshot() == before
    assert not ArchivedActivity.objects.exists()
    assert not ArchivedMonth.objects.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_command_is_a_dry_run_unless_told(
    history: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_plan = archiving.plan
    monkeypatch.setattr(archiving, "plan", lambda **kw: real_plan(**kw, today=LATER))
    total = AnswerFact.objects.count()
    out = StringIO()
    call_command("archive_history", "--before", "2029-01", stdout=out)
    assert "12 of 18 answers to archive" in out.getvalue()
    assert "Dry run" in out.getvalue()
    assert AnswerFact.objects.count() == total
    with pytest.raises(CommandError, match="--to"):
        call_command("archive_history", "--before", "2029-01", "--execute")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("archive_history", "--before", "January")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("archive_history", "--before", "2029-13")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("archive_history", "--before", "2029-01", "--min-age-months", "0")
    assert AnswerFact.objects.count() == total  # no refusal wrote anything
    out = StringIO()
    call_command(
        "archive_history", "--before", "2029-01", "--execute", "--to", tmp_path, stdout=out
    )
    assert "12 answers archived" in out.getvalue()
    assert AnswerFact.objects.count() == total - 12


def test_a_monthly_partition_is_archived_in_place(
    user: User,
    other_user: User,
    tmp_path: Path,
    side: psycopg.Connection,
    session_sequences: dict[str, str],  # noqa: F811  # put back afterwards (Beat moves them)
) -> None:
    """The usual case: a month's own partition, swapped for its first attempts under the same
    name and bounds."""
    created = partitioning.prepare_partitions(connection, today=date(2031, 5, 17))
    name = partitioning.partition_name(TABLE, 2031, 5)
    try:
        base = partitioning.month_base(2031, 5)
        questions = [make_question() for _ in range(2)]
        for offset, learner in enumerate((user, other_user)):
            for repeat in range(3):
                publish(
                    *(
                        answer(
                            learner, q, correct=repeat > 0, session_id=base + offset * 10 + repeat
                        )
                        for q in questions
                    )
                )
        before = _snapshot()
        month = next(
            m
            for m in archiving.plan(before=date(2031, 6, 1), today=date(2032, 7, 1))
            if m.partition == name
        )
        assert (month.rows, month.repeats, month.refused) == (12, 8, None)
        bounds = side.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s", [name]
        ).fetchone()
        archiving.archive_month(month, directory=tmp_path)
        assert _snapshot() == before
        assert recompute_aggregates().changed == 0
        assert (
            side.execute(
                "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s", [name]
            ).fetchone()
            == bounds
        )
        assert AnswerFact.objects.filter(source_id__gte=base).count() == 4
    finally:
        AnswerFact.objects.all().delete()
        for table in sorted(created["partitions_created"]):
            side.execute(f"DROP TABLE IF EXISTS {table}")
