"""Two application instances, one state: two gunicorn processes on two ports, reaching this
worker's test database only through one PgBouncer in transaction mode, and sharing one Redis.

Whatever one instance does, the other sees at once: an exam submitted on both together is scored
once, an answer on one is on the other's dashboard, a logout on one ends the token on the other,
and a throttle counts the hits on both. The rows the instances read are made by this test
(committed: ``transaction=True``) in the test database PgBouncer fronts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from django.db import connection

from apps.analytics.models import AnswerFact
from apps.audit.models import AuditEvent
from apps.exams.models import ExamSession, SessionStatus
from apps.questions.grading import answer_keys
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.exams.factories import blueprint_template, make_bank
from tests.exams.test_concurrency import run_together
from tests.faults.processes import REDIS_SERVER, AppServer, PrivateRedis
from tests.scale.processes import PrivatePgBouncer, pgbouncer_missing

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults, pytest.mark.slow]

# Logins allowed per minute from one address, counted in the shared Redis.
LOGIN_RATE = 4
SESSIONS = "/api/v1/exams/sessions"


@dataclass
class Instances:
    a: AppServer
    b: AppServer
    bouncer: PrivatePgBouncer
    redis: PrivateRedis


@pytest.fixture(scope="module")
def instances(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Instances]:
    """PgBouncer in front of the test database, one private Redis, two gunicorn instances.
    Stopped in reverse order; PgBouncer last, which closes its server connections so that the
    test database can be dropped at the end of the run."""
    reason = pgbouncer_missing() or (None if REDIS_SERVER else "redis-server is not installed")
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("scale")
    redis = PrivateRedis(workdir)
    bouncer = PrivatePgBouncer(server=connection.settings_dict, dbname=_test_database_name())
    apps: list[AppServer] = []
    try:
        redis.start()
        bouncer.start()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.scale.instance_settings",
            "DATABASE_URL": bouncer.url(application_name="scale-app"),
            "DATABASE_TRANSACTION_POOLING": "true",
            "DATABASE_CONN_MAX_AGE": "600",
            "REDIS_URL": redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "SCALE_LOGIN_RATE": f"{LOGIN_RATE}/min",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("a", "b"):
            (workdir / name).mkdir()
            app = AppServer(env=env, workdir=workdir / name)
            app.start()
            apps.append(app)
        yield Instances(a=apps[0], b=apps[1], bouncer=bouncer, redis=redis)
    finally:
        for app in reversed(apps):
            app.stop()
        bouncer.stop()
        redis.stop()


def _test_database_name() -> str:
    return str(connection.settings_dict["NAME"])


@pytest.fixture(autouse=True)
def _empty_shared_redis(instances: Instances) -> None:
    """Each test starts with nothing cached and no throttle counted."""
    instances.redis.client().flushall()


def _login(app: AppServer, email: str) -> dict[str, str]:
    reply = app.request(
        "POST", "/api/v1/auth/login", {"email": email, "password": DEFAULT_PASSWORD}
    )
    assert reply.status == 200, (reply, app.logs())
    return {"access": reply.body["access"], "refresh": reply.body["refresh"]}


def test_the_instances_reach_postgresql_through_pgbouncer_in_transaction_mode(
    instances: Instances,
) -> None:
    config = {row["key"]: row["value"] for row in instances.bouncer.admin("SHOW CONFIG")}
    assert config["pool_mode"] == "transaction"
    user = UserFactory()
    for app in (instances.a, instances.b):
        token = _login(app, user.email)["access"]
        for _ in range(12):  # past psycopg's default prepare threshold, were it on
            assert app.request("GET", "/api/v1/me", token=token).status == 200, app.logs()
    stats = next(r for r in instances.bouncer.admin("SHOW STATS") if r["database"] == "app")
    assert stats["total_xact_count"] > 0
    after = instances.bouncer.pool()
    # Two instances, each with its persistent client connection, and never more server
    # connections than the pool: transactions share them.
    assert after["cl_active"] + after["cl_waiting"] >= 2, after
    assert after["sv_active"] + after["sv_idle"] + after["sv_used"] <= 3, after


def test_an_exam_submitted_on_both_instances_at_once_is_scored_once(instances: Instances) -> None:
    a, b = instances.a, instances.b
    user = UserFactory()
    first, second = make_bank(categories=2, per_category=3)
    template = blueprint_template({first: 2, second: 2})
    token = _login(a, user.email)["access"]
    started = a.request("POST", SESSIONS, {"template_id": template.id}, token=token)
    assert started.status == 201, (started, a.logs())
    session_id = started.body["id"]
    question_ids = ExamSession.objects.get(id=session_id).question_ids
    keys = answer_keys(question_ids=question_ids)
    saved = b.request(
        "POST",
        f"{SESSIONS}/{session_id}/attempts",
        {
            "attempts": [
                {"question_id": q, "selected_option_ids": keys[q]} for q in question_ids[:3]
            ]
        },
        token=token,
    )
    assert saved.status == 200, (saved, b.logs())

    def submit(app: AppServer) -> Any:
        return lambda: app.request("POST", f"{SESSIONS}/{session_id}/submit", token=token)

    replies = run_together([submit(a), submit(b), submit(a), submit(b)])

    assert [r.status for r in replies] == [200] * 4, (replies, a.logs(), b.logs())
    assert all(r.body == replies[0].body for r in replies)
    assert replies[0].body["correct"] == 3
    assert ExamSession.objects.get(id=session_id).status == SessionStatus.SUBMITTED
    assert AuditEvent.objects.filter(action="exam.submit", target_id=str(session_id)).count() == 1
    facts = AnswerFact.objects.filter(user=user, source="exam", source_id=session_id)
    # The learning record has each answered question once, however many submits raced.
    assert sorted(facts.values_list("question_id", flat=True)) == sorted(question_ids[:3])
    assert all(fact.is_correct for fact in facts)


def test_an_answer_on_one_instance_is_on_the_other_instances_dashboard_at_once(
    instances: Instances,
) -> None:
    a, b = instances.a, instances.b
    user = UserFactory()
    (category,) = make_bank(categories=1, per_category=3)
    token = _login(a, user.email)["access"]
    before = b.request("GET", "/api/v1/dashboard", token=token)  # now cached by B
    assert before.status == 200, (before, b.logs())
    assert before.body["performance"]["correct"] == 0

    session = a.request(
        "POST",
        "/api/v1/practice/sessions",
        {"categories": [category.slug], "question_count": 2},
        token=token,
    )
    assert session.status == 201, (session, a.logs())
    question_id = session.body["question_ids"][0]
    answered = a.request(
        "POST",
        f"/api/v1/practice/sessions/{session.body['id']}/attempts",
        {
            "question_id": question_id,
            "selected_option_ids": answer_keys(question_ids=[question_id])[question_id],
            "time_spent_sec": 30,
        },
        token=token,
    )
    assert answered.status == 201, (answered, a.logs())
    assert answered.body["is_correct"] is True

    after = b.request("GET", "/api/v1/dashboard", token=token)
    assert after.status == 200, (after, b.logs())
    assert after.body["performance"]["correct"] == 1


def test_a_logout_on_one_instance_ends_the_token_on_the_other(instances: Instances) -> None:
    a, b = instances.a, instances.b
    user = UserFactory()
    tokens = _login(a, user.email)
    assert b.request("GET", "/api/v1/me", token=tokens["access"]).status == 200

    out = a.request(
        "POST", "/api/v1/auth/logout", {"refresh": tokens["refresh"]}, token=tokens["access"]
    )
    assert out.status in (200, 204), (out, a.logs())

    refused = b.request("GET", "/api/v1/me", token=tokens["access"])
    assert refused.status == 401, refused
    assert b.request("POST", "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}).status == 401


def test_throttles_count_the_hits_on_both_instances(instances: Instances) -> None:
    a, b = instances.a, instances.b
    user = UserFactory()
    # Half the limit on each instance: neither alone is near it.
    for app in (a, b) * (LOGIN_RATE // 2):
        _login(app, user.email)

    for app in (a, b):
        refused = app.request(
            "POST", "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
        )
        assert refused.status == 429, refused
        assert refused.body["code"] == "throttled"
        assert int(refused.headers["Retry-After"]) > 0


def test_named_prepared_statements_break_behind_transaction_pooling_and_are_off(
    django_db_setup: Any, instances: Instances
) -> None:
    """Why the settings turn psycopg's prepared statements off behind PgBouncer: two clients of
    a one-connection pool, each preparing its first statement under psycopg's same name."""
    single = PrivatePgBouncer(
        server=connection.settings_dict, dbname=_test_database_name(), pool_size=1
    )
    single.start()
    try:

        def client(threshold: int | None) -> psycopg.Connection[Any]:
            return psycopg.connect(
                host="127.0.0.1",
                port=single.port,
                user="postgres",
                dbname="app",
                autocommit=True,
                prepare_threshold=threshold,
            )

        with client(0) as first, client(0) as second:
            first.execute("SELECT 1 WHERE %s::int = 1", [1])
            with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
                second.execute("SELECT 2 WHERE %s::int = 1", [1])
        with client(None) as first, client(None) as second:
            for _ in range(10):
                assert first.execute("SELECT 1 WHERE %s::int = 1", [1]).fetchone() == (1,)
                assert second.execute("SELECT 2 WHERE %s::int = 1", [1]).fetchone() == (2,)
    finally:
        single.stop()
