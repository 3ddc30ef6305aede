"""A real streaming replica under the application: a private primary (a copy of this test's
rows), a hot standby made from it with ``pg_basebackup -R``, and the application under gunicorn
with ``DATABASE_REPLICA_URL`` naming the standby.

The standby applies the primary's commits an hour late (``recovery_min_apply_delay``), which the
application is configured to accept (``DATABASE_REPLICA_MAX_LAG_SECONDS``), so a read the router
sends to the replica is visibly stale and one it keeps on the primary is visibly fresh:

- an editor's refreshed item statistics are stale for another editor (the replica) and fresh for
  the editor who asked (read-your-writes); a learner sees their own answer in their analytics;
- with the standby's replay paused, reads fall back to the primary;
- with the standby stopped, every read is served by the primary, never a 5xx.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from apps.accounts.models import Role
from apps.questions.grading import answer_keys
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.exams.factories import make_bank
from tests.faults.processes import (
    REDIS_SERVER,
    AppServer,
    PrivatePostgres,
    PrivateRedis,
    Reply,
    postgres_binaries_missing,
)
from tests.reliability_report import record, trial
from tests.scale.processes import (
    PrivateStandby,
    copy_database,
    current_lsn,
    standby_binaries_missing,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults, pytest.mark.slow]


@dataclass
class Replicated:
    primary: PrivatePostgres
    standby: PrivateStandby
    app: AppServer


@pytest.fixture
def servers(db: Any) -> Iterator[list[Any]]:
    """What the test starts (:func:`_start`, once its rows exist: the primary is a copy of the
    test database), stopped and removed afterwards in reverse order."""
    reason = postgres_binaries_missing() or standby_binaries_missing()
    if reason or REDIS_SERVER is None:
        pytest.skip(reason or "redis-server is not installed")
    started: list[Any] = []
    yield started
    for item in reversed(started):
        if isinstance(item, AppServer | PrivateRedis):
            item.stop()
        else:
            item.destroy()


def _start(started: list[Any], tmp_path: Path) -> Replicated:
    primary = PrivatePostgres()
    started.append(primary)
    primary.init()
    primary.start()
    copy_database(primary, source=connection.settings_dict, dbname="app")
    standby = PrivateStandby(primary)
    started.append(standby)
    standby.init()
    standby.start()
    # A commit replayed before the delay starts: the standby then knows how far behind it is
    # (the age of the last transaction it replayed) instead of "nothing replayed yet".
    with primary.connect("app") as conn:
        conn.execute("SET synchronous_commit = on")  # the cluster's default is off
        conn.execute("CREATE TABLE scale_replayed_marker ()")
    standby.wait_for(current_lsn(primary))
    standby.set(recovery_min_apply_delay="1h")
    redis = PrivateRedis(tmp_path)
    started.append(redis)
    redis.start()
    app = AppServer(
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": primary.url("app", application_name="replica-app"),
            "DATABASE_REPLICA_URL": standby.url("app", application_name="replica-app"),
            "DATABASE_CONN_MAX_AGE": "600",
            # An hour-late standby counts as fit here; the window follows (never shorter).
            "DATABASE_REPLICA_MAX_LAG_SECONDS": "7200",
            "DATABASE_REPLICA_CHECK_SECONDS": "0",
            "REDIS_URL": redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "PYTHONUNBUFFERED": "1",
        },
        workdir=tmp_path,
    )
    started.append(app)
    app.start()
    return Replicated(primary=primary, standby=standby, app=app)


def _count(cluster: PrivatePostgres, table: str, **where: int) -> int:
    clause = " AND ".join(f"{column} = %s" for column in where) or "true"
    with cluster.connect("app") as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {table} WHERE {clause}",  # noqa: S608  # names from this file
            list(where.values()),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _login(app: AppServer, email: str) -> str:
    body = {"email": email, "password": DEFAULT_PASSWORD}
    reply = app.request("POST", "/api/v1/auth/login", body)
    assert reply.status == 200, (reply, app.logs())
    return str(reply.body["access"])


def _computed(reply: Reply) -> bool:
    """Whether the item statistics show a finished analysis."""
    assert reply.status == 200, reply
    return any(version["computed_at"] is not None for version in reply.body["versions"])


def test_heavy_reads_use_the_replica_fall_back_when_it_lags_or_goes_and_never_fail(
    servers: list[Any], tmp_path: Path
) -> None:
    learner = UserFactory()
    asking = UserFactory(role=Role.EDITOR, is_staff=True)
    reading = UserFactory(role=Role.EDITOR, is_staff=True)
    (category,) = make_bank(categories=1, per_category=3)
    cluster = _start(servers, tmp_path)
    app, primary, standby = cluster.app, cluster.primary, cluster.standby

    # A learner answers (their mark: read-your-writes) and reads their analytics at once.
    learner_token = _login(app, learner.email)
    session = app.request(
        "POST",
        "/api/v1/practice/sessions",
        {"categories": [category.slug], "question_count": 2},
        token=learner_token,
    )
    assert session.status == 201, (session, app.logs())
    question_id = session.body["question_ids"][0]
    answered = app.request(
        "POST",
        f"/api/v1/practice/sessions/{session.body['id']}/attempts",
        {
            "question_id": question_id,
            "selected_option_ids": answer_keys(question_ids=[question_id])[question_id],
            "time_spent_sec": 20,
        },
        token=learner_token,
    )
    assert answered.status == 201, (answered, app.logs())
    assert _count(primary, "analytics_answerfact") == 1
    assert _count(standby, "analytics_answerfact") == 0  # the replica really is behind
    overview = app.request("GET", "/api/v1/analytics/overview", token=learner_token)
    assert overview.status == 200, (overview, app.logs())
    assert overview.body["answered"] == 1  # their own write: from the primary

    # An editor has the question analysed now; the statistics exist only on the primary.
    asking_token = _login(app, asking.email)
    reading_token = _login(app, reading.email)
    stats = f"/api/v1/staff/questions/{question_id}/stats"
    queued = app.request("POST", f"{stats}/refresh", token=asking_token)
    assert queued.status == 202, (queued, app.logs())
    assert _count(primary, "quality_itemstatistics", question_id=question_id) >= 1
    assert _count(standby, "quality_itemstatistics", question_id=question_id) == 0

    assert _computed(app.request("GET", stats, token=asking_token))  # read-your-writes
    assert not _computed(app.request("GET", stats, token=reading_token))  # the replica

    replies: list[Reply] = []
    with trial("faults"):  # the replica's replay paused: it is falling behind, the primary reads
        with standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
        reply = app.request("GET", stats, token=reading_token)
        replies.append(reply)
        assert _computed(reply), app.logs()

    with trial("faults"):  # replay resumed: the (still late) replica reads again
        with standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
        reply = app.request("GET", stats, token=reading_token)
        replies.append(reply)
        assert not _computed(reply), app.logs()

    with trial("faults"):  # the replica gone: every read from the primary, no error
        standby.stop()
        for token, path in (
            (reading_token, stats),
            (learner_token, "/api/v1/analytics/overview"),
            (learner_token, "/api/v1/analytics/categories"),
            (learner_token, "/api/v1/me/export"),
            (learner_token, "/api/v1/dashboard"),
        ):
            reply = app.request("GET", path, token=token)
            replies.append(reply)
            assert reply.status == 200, (path, reply, app.logs())
        assert _computed(replies[2])
        assert app.request("GET", "/api/v1/health").status == 200

    record("requests_under_faults", len(replies))
    record("server_errors_under_faults", sum(1 for r in replies if r.status >= 500))
