"""The router and its marker in-process (apps/core/db_routing.py): which alias a reading block
chooses, read-your-writes, the write mark left by the API, and a replica that fails under a
read. The ``replica`` alias here is a second connection to the test database, or a private
cluster (``tests/scale/test_replica.py`` runs the whole thing against a real streaming standby).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.analytics import selectors as analytics
from apps.core import sql
from apps.core.db_routing import (
    REPLICA,
    PrimaryReplicaRouter,
    note_write,
    read_alias,
    read_your_writes_seconds,
    reading_from_replica,
    replica_fit,
    wrote_recently,
)
from apps.core.request_context import user_id_var
from tests.accounts.factories import UserFactory
from tests.conftest import client_for
from tests.faults.conftest import PrivateCache
from tests.faults.processes import PrivatePostgres, postgres_binaries_missing
from tests.scale.conftest import PointReplica

pytestmark = [
    pytest.mark.usefixtures("replica_in_connections"),
    pytest.mark.django_db(transaction=True, databases=["default", REPLICA]),
]


def _as_user(user: User) -> Any:
    return user_id_var.set(user.pk)


def test_a_heavy_read_goes_to_a_fit_replica_and_nothing_else_does(
    replica_alias: PointReplica, user: User
) -> None:
    replica = connections[REPLICA]
    with CaptureQueriesContext(replica) as on_replica:
        overview = analytics.overview(user=user)  # marked: the replica
        rows = analytics.category_breakdown(user_id=user.pk)  # marked, raw SQL included
        User.objects.filter(pk=user.pk).exists()  # not marked: the primary
    assert overview["answered"] == 0
    assert isinstance(rows, list)
    statements = [q["sql"] for q in on_replica.captured_queries]
    assert any("analytics_categoryprogress" in s for s in statements), statements
    assert not any('"accounts_user"' in s for s in statements), statements
    assert read_alias() == DEFAULT_DB_ALIAS  # the block has ended


def test_inside_a_transaction_reads_stay_on_the_primary(replica_alias: PointReplica) -> None:
    with transaction.atomic(), reading_from_replica() as alias:
        assert alias == DEFAULT_DB_ALIAS


def test_a_learner_reads_the_primary_for_the_window_after_their_write(
    replica_alias: PointReplica, user: User, time_machine: Any
) -> None:
    time_machine.move_to("2026-03-02 10:00:00Z", tick=False)
    token = _as_user(user)
    try:
        with reading_from_replica() as alias:
            assert alias == REPLICA
        note_write(user_id=user.pk)
        with reading_from_replica() as alias:
            assert alias == DEFAULT_DB_ALIAS
        time_machine.shift(timedelta(seconds=read_your_writes_seconds() - 0.5))
        with reading_from_replica() as alias:
            assert alias == DEFAULT_DB_ALIAS
        time_machine.shift(timedelta(seconds=1))
        with reading_from_replica() as alias:
            assert alias == REPLICA
    finally:
        user_id_var.reset(token)
    other = UserFactory()
    note_write(user_id=other.pk)
    assert not wrote_recently(user_id=user.pk)  # one learner's write moves no one else


def test_the_window_is_never_shorter_than_what_a_fit_replica_may_lag(settings: Any) -> None:
    settings.READ_YOUR_WRITES_SECONDS = 1
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    settings.DATABASE_REPLICA_CHECK_SECONDS = 2
    assert read_your_writes_seconds() == 7
    settings.READ_YOUR_WRITES_SECONDS = 30
    assert read_your_writes_seconds() == 30


def test_with_redis_down_a_learner_is_taken_to_have_written(
    replica_alias: PointReplica, private_cache: PrivateCache, user: User
) -> None:
    assert not wrote_recently(user_id=user.pk)
    private_cache.under_fault()
    private_cache.server.stop()
    assert wrote_recently(user_id=user.pk)
    token = _as_user(user)
    try:
        with reading_from_replica() as alias:
            assert alias == DEFAULT_DB_ALIAS
    finally:
        user_id_var.reset(token)


def test_an_unsafe_request_leaves_the_mark_and_a_safe_one_does_not(
    replica_alias: PointReplica, user: User
) -> None:
    client = client_for(user)
    assert client.get("/api/v1/analytics/overview").status_code == 200
    assert not wrote_recently(user_id=user.pk)
    reply = client.post("/api/v1/analytics/heartbeat", {"seconds": 30}, format="json")
    assert reply.status_code == 200, reply.content
    assert wrote_recently(user_id=user.pk)


@pytest.mark.parametrize(
    ("paused", "lag", "fit"),
    [
        (False, 0, True),
        (False, 5.0, True),
        (False, 5.01, False),
        (True, 0, False),  # replay paused: it falls behind with the primary's next commit
        (False, None, False),  # WAL waiting and nothing replayed yet: unknown
    ],
)
def test_the_fitness_rule(paused: bool, lag: float | None, fit: bool) -> None:
    assert replica_fit(paused=paused, lag_seconds=lag, max_lag=5.0) is fit


def test_an_unreachable_replica_sends_reads_to_the_primary(
    replica_alias: PointReplica, user: User
) -> None:
    from tests.faults.processes import free_port

    replica_alias(PORT=free_port())  # nothing listens there
    with reading_from_replica() as alias:
        assert alias == DEFAULT_DB_ALIAS
    assert analytics.overview(user=user)["answered"] == 0


@pytest.mark.faults
def test_a_replica_that_goes_away_under_a_read_is_retried_on_the_primary(
    replica_alias: PointReplica, user: User
) -> None:
    """The verdict said fit; the replica stops before the read's statement: the decorated read
    runs again on the primary, and the next block does not try the replica."""
    reason = postgres_binaries_missing()
    if reason:
        pytest.skip(reason)
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        cluster.copy_schema(source=connections["default"].settings_dict, dbname="app")
        replica_alias(NAME="app", PORT=cluster.port, HOST="127.0.0.1")
        calls: list[str] = []

        @reading_from_replica()
        def count_users() -> int:
            calls.append(read_alias())
            if len(calls) == 1:
                cluster.stop()
            return len(sql.fetch_rows("SELECT id FROM accounts_user", {}))

        assert count_users() == 1  # the primary's one user; the private copy has none
        assert calls == [REPLICA, DEFAULT_DB_ALIAS]
        with reading_from_replica() as alias:
            assert alias == DEFAULT_DB_ALIAS
    finally:
        cluster.destroy()


def test_the_router_writes_and_migrates_only_on_the_primary(
    replica_alias: PointReplica, user: User
) -> None:
    router = PrimaryReplicaRouter()
    with reading_from_replica():
        found = User.objects.get(pk=user.pk)
    assert found._state.db == REPLICA
    assert router.db_for_write(User, instance=found) == DEFAULT_DB_ALIAS
    found.email = "written@example.com"
    found.save(update_fields=["email"])  # lands on the primary, not the replica
    assert User.objects.get(pk=user.pk).email == "written@example.com"
    assert router.allow_migrate(REPLICA, "accounts") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "accounts") is None
