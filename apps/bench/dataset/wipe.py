"""Finding and deleting a previous bench dataset (``bench_data --wipe``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from apps.accounts.models import User
from apps.bench.constants import BENCH_EMAIL_DOMAIN, BENCH_EXAM_TEMPLATE, BENCH_REFERENCE
from apps.bench.dataset.db import run, scalar, statement, table_name
from apps.bench.dataset.tiers import BenchDataError
from apps.exams.models import ExamTemplate
from apps.questions.models import Question

# Rows keyed by the learner, deleted in bulk before the ORM's cascade.
_BY_USER = ("answerfact", "dailyactivity", "categoryprogress", "heartbeatlog", "learnerstate")
# Rows keyed by a bench question, deleted before the questions.
_BY_QUESTION = ("answeroption", "questionmedia", "question_tags", "questionflag", "questionreport")


def bench_users() -> QuerySet[User]:
    return User.objects.filter(email__endswith=f"@{BENCH_EMAIL_DOMAIN}")


def dataset_exists() -> bool:
    return (
        bench_users().exists()
        or Question.objects.filter(reference=BENCH_REFERENCE, is_synthetic=True).exists()
        or ExamTemplate.objects.filter(name=BENCH_EXAM_TEMPLATE).exists()
    )


def wipe_dataset(*, log: Callable[[str], None] = print) -> dict[str, int]:
    """Deletes every bench user (with everything they own), the bench exam template and the
    bench questions. The large tables are emptied with set-based SQL first, so that the ORM
    delete that follows (which knows every other table pointing at users) has little left."""
    removed: dict[str, int] = {}
    with transaction.atomic():
        _wipe_learners(removed)
        templates = ExamTemplate.objects.filter(name=BENCH_EXAM_TEMPLATE)
        if templates.filter(sessions__isnull=False).exists():
            raise BenchDataError(
                f"Users outside the bench dataset sat {BENCH_EXAM_TEMPLATE!r}; delete their "
                "sessions (or use a fresh bench database) before wiping."
            )
        removed[ExamTemplate._meta.db_table], _ = templates.delete()
        _wipe_questions(removed)
    for name, count in removed.items():
        log(f"  wiped {name}: {count}")
    return removed


def _wipe_learners(removed: dict[str, Any]) -> None:
    run(
        statement(
            "CREATE TEMP TABLE bench_wipe_user ON COMMIT DROP AS "
            "SELECT id FROM {user} WHERE email LIKE %s"
        ),
        [f"%@{BENCH_EMAIL_DOMAIN}"],
    )
    run("ALTER TABLE bench_wipe_user ADD PRIMARY KEY (id)")
    for key in _BY_USER:
        removed[table_name(key)] = run(
            statement(
                "DELETE FROM {target} WHERE user_id IN (SELECT id FROM bench_wipe_user)",
                target=key,
            )
        )
    for attempt, session in (("practiceattempt", "practicesession"), ("examanswer", "examsession")):
        removed[table_name(attempt)] = run(
            statement(
                "DELETE FROM {answers} WHERE session_id IN (SELECT s.id FROM {sessions} s "
                "JOIN bench_wipe_user u ON u.id = s.user_id)",
                answers=attempt,
                sessions=session,
            )
        )
        removed[table_name(session)] = run(
            statement(
                "DELETE FROM {sessions} WHERE user_id IN (SELECT id FROM bench_wipe_user)",
                sessions=session,
            )
        )
    deleted, _ = bench_users().delete()
    removed["users and what remained of theirs"] = deleted


def _wipe_questions(removed: dict[str, Any]) -> None:
    run(
        statement(
            "CREATE TEMP TABLE bench_wipe_question ON COMMIT DROP AS SELECT id FROM {question} "
            "WHERE reference = %s AND is_synthetic"
        ),
        [BENCH_REFERENCE],
    )
    in_use = scalar(
        statement(
            "SELECT (SELECT count(*) FROM {practiceattempt} WHERE question_id IN "
            "(SELECT id FROM bench_wipe_question)) + (SELECT count(*) FROM {examanswer} "
            "WHERE question_id IN (SELECT id FROM bench_wipe_question)) + (SELECT count(*) FROM "
            "{examtemplatequestion} WHERE question_id IN (SELECT id FROM bench_wipe_question))"
        )
    )
    if in_use:
        raise BenchDataError(
            "Bench questions were answered by users outside the bench dataset (or are on an "
            "exam template); use a fresh bench database."
        )
    for key in _BY_QUESTION:
        run(
            statement(
                "DELETE FROM {target} WHERE question_id IN (SELECT id FROM bench_wipe_question)",
                target=key,
            )
        )
    removed[table_name("question")] = run(
        statement("DELETE FROM {question} WHERE id IN (SELECT id FROM bench_wipe_question)")
    )
